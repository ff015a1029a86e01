#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_link.h"

namespace tp::tunnel::detail {

bool TunnelLink::SendControl(const Frame& frame) {
  std::vector<uint8_t> bytes = EncodeFrame(frame);
  MutexLock lock(queue_mutex_);
  if (dead_.load()) return false;
  if (!FreeForDirectLocked() || !control_queue_.empty()) {
    if (control_queue_bytes_ + bytes.size() > kMaxQueuedControlBytes) {
      // A peer that reads nothing while it makes us answer (pongs, window updates, refusals)
      // would grow this queue without end: the link goes instead.
      const size_t waiting = control_queue_bytes_;
      lock.Unlock();
      Break("the peer reads nothing: " + std::to_string(waiting) + " bytes of control frames wait");
      return false;
    }
    control_queue_bytes_ += bytes.size();
    control_queue_.push_back(std::move(bytes));
    WakeWriterAndUnlock(lock);
    return true;
  }
  owner_ = SocketOwner::kDirectControl;
  lock.Unlock();
  iovec piece{bytes.data(), bytes.size()};
  int error = 0;
  const size_t sent = SendPieces(std::span(&piece, 1), false, Deadline::max(), error);
  lock.Lock();
  if (error != 0 && error != EAGAIN) return SendFailed(lock, error) == 0;
  if (sent == 0) {
    control_queue_bytes_ += bytes.size();
    control_queue_.push_front(std::move(bytes));
  } else if (sent < bytes.size()) {
    partial_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(sent), bytes.end());
  }
  ReleaseSocket(lock);
  return true;
}

int TunnelLink::SendData(std::span<const uint8_t> header, Payload payload, Deadline deadline,
                         std::vector<uint8_t>* owned) {
  const size_t size = header.size() + payload.size();
  MutexLock lock(queue_mutex_);
  while (true) {
    if (dead_.load()) return ECONNRESET;
    if (FreeForDirectLocked()) return SendDirect(lock, header, payload, deadline);
    // Queue behind another stream sending, or behind data queued already, so that streams
    // take turns. When only the writer thread (or a control frame) holds the socket and
    // nothing is queued, this frame is next anyway: wait for the socket rather than copy.
    const bool queue = owner_ == SocketOwner::kDirectData || !data_queue_.empty();
    if (queue &&
        (queued_data_bytes_ == 0 || queued_data_bytes_ + size <= options_.max_queued_bytes)) {
      std::vector<uint8_t> bytes;
      if (owned != nullptr) {
        bytes = std::move(*owned);
      } else {
        bytes.reserve(size);
        bytes.insert(bytes.end(), header.begin(), header.end());
        bytes.insert(bytes.end(), payload.bytes.begin(), payload.bytes.end());
        if (payload.piped()) {
          bytes.resize(size);
          if (!ReadPipeExactly(payload.pipe, std::span(bytes).subspan(header.size()))) {
            return EIO;
          }
        }
      }
      queued_data_bytes_ += bytes.size();
      data_queue_.push_back(std::move(bytes));
      WakeWriterAndUnlock(lock);
      return 0;
    }
    ++sender_waiters_;
    const bool woken = senders_wakeup_.WaitUntil(queue_mutex_, deadline);
    --sender_waiters_;
    if (!woken && Clock::now() >= deadline) {
      return dead_.load() ? ECONNRESET : ETIMEDOUT;
    }
  }
}

int TunnelLink::SendDataFrame(const Frame& frame, Deadline deadline) {
  std::vector<uint8_t> bytes = EncodeFrame(frame);
  if (bytes.empty()) return EMSGSIZE;
  return SendData(bytes, Payload{}, deadline, &bytes);
}

void TunnelLink::WakeWriterAndUnlock(MutexLock& lock) {
  const bool wake = writer_waiting_ && owner_ == SocketOwner::kNone;
  lock.Unlock(queue_mutex_);
  if (wake) writer_wakeup_.NotifyOne();
}

void TunnelLink::ReleaseSocket(MutexLock& lock) {
  owner_ = SocketOwner::kNone;
  const bool wake_writer = writer_waiting_ && HasWorkLocked();
  const bool wake_senders = sender_waiters_ > 0;
  lock.Unlock(queue_mutex_);
  if (wake_writer) writer_wakeup_.NotifyOne();
  if (wake_senders) senders_wakeup_.NotifyAll();
}

int TunnelLink::SendFailed(MutexLock& lock, int error) {
  owner_ = SocketOwner::kNone;
  lock.Unlock(queue_mutex_);
  Break(std::string("send failed: ") + std::strerror(error));
  return ECONNRESET;
}

bool TunnelLink::WaitWritable(Deadline deadline, int& error) {
  pollfd waiter{socket_.Get(), POLLOUT, 0};
  const int timeout = deadline == Deadline::max() ? -1 : MillisecondsUntil(deadline);
  const int ready = ::poll(&waiter, 1, timeout);
  if (ready < 0 && errno != EINTR) {
    error = errno;
    return false;
  }
  if (ready == 0 && Clock::now() >= deadline) {
    error = EAGAIN;
    return false;
  }
  return true;
}

size_t TunnelLink::SpliceToSocket(int pipe, size_t count, Deadline deadline, int& error) {
  error = 0;
  size_t total = 0;
  bool waited = false;  // the last wait said the socket has room
  while (total < count) {
    const ssize_t moved = SpliceSome(pipe, socket_.Get(), count - total);
    if (moved > 0) {
      total += static_cast<size_t>(moved);
      waited = false;
      continue;
    }
    if (moved < 0 && errno == EAGAIN && !waited) {
      if (!WaitWritable(deadline, error)) return total;
      waited = true;
      continue;
    }
    // Room in the socket and still nothing moved: the pipe is empty.
    error = moved == 0 || errno == EAGAIN ? EIO : errno;
    return total;
  }
  return total;
}

size_t TunnelLink::SendPieces(std::span<iovec> pieces, bool may_wait, Deadline deadline, int& error,
                              bool more) {
  error = 0;
  size_t total = 0;
  size_t first = 0;
  while (first < pieces.size() && pieces[first].iov_len == 0) ++first;
  while (first < pieces.size()) {
    msghdr message{};
    message.msg_iov = pieces.data() + first;
    message.msg_iovlen = std::min(pieces.size() - first, kMaxPiecesPerCall);
    const ssize_t sent =
        ::sendmsg(socket_.Get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) {
      if (!may_wait) {
        error = EAGAIN;
        return total;
      }
      if (!WaitWritable(deadline, error)) return total;
      continue;
    }
    if (sent <= 0) {
      error = sent < 0 ? errno : EPIPE;
      return total;
    }
    total += static_cast<size_t>(sent);
    // Skip what went out; a partly sent piece continues from where it stopped.
    size_t left = static_cast<size_t>(sent);
    while (first < pieces.size() && left >= pieces[first].iov_len) {
      left -= pieces[first].iov_len;
      ++first;
    }
    if (first < pieces.size()) {
      pieces[first].iov_base = static_cast<uint8_t*>(pieces[first].iov_base) + left;
      pieces[first].iov_len -= left;
    }
  }
  return total;
}

int TunnelLink::SendDirect(MutexLock& lock, std::span<const uint8_t> header, Payload payload,
                           Deadline deadline) {
  owner_ = SocketOwner::kDirectData;
  std::deque<std::vector<uint8_t>> control;
  control.swap(control_queue_);
  control_queue_bytes_ = 0;
  lock.Unlock(queue_mutex_);

  std::vector<iovec>& pieces = owner_pieces_;
  pieces.clear();
  size_t control_bytes = 0;
  for (auto& frame : control) {
    pieces.push_back({frame.data(), frame.size()});
    control_bytes += frame.size();
  }
  pieces.push_back({const_cast<uint8_t*>(header.data()), header.size()});
  pieces.push_back({const_cast<uint8_t*>(payload.bytes.data()), payload.bytes.size()});
  int error = 0;
  size_t sent = SendPieces(pieces, true, deadline, error, payload.piped());
  if (payload.piped() && error == 0) {
    sent += SpliceToSocket(payload.pipe, payload.pipe_bytes, deadline, error);
  }

  lock.Lock(queue_mutex_);
  if (error != 0 && error != EAGAIN) return SendFailed(lock, error);
  int result = 0;
  const size_t frame_bytes = header.size() + payload.size();
  if (sent < control_bytes + frame_bytes) {
    // The socket stayed full until the deadline. What was begun must be finished before
    // anything else; our frame counts as sent if it was begun, else not at all.
    size_t skip = sent;
    for (const auto& frame : control) {
      if (skip >= frame.size()) {
        skip -= frame.size();
        continue;
      }
      partial_.insert(partial_.end(), frame.begin() + static_cast<std::ptrdiff_t>(skip),
                      frame.end());
      skip = 0;
    }
    if (sent <= control_bytes) {
      result = ETIMEDOUT;
    } else if (!KeepUnsentLocked(header, payload, sent - control_bytes)) {
      return SendFailed(lock, EIO);
    }
  }
  ReleaseSocket(lock);
  return result;
}

bool TunnelLink::KeepUnsentLocked(std::span<const uint8_t> header, Payload payload, size_t offset) {
  if (offset < header.size()) {
    partial_.insert(partial_.end(), header.begin() + static_cast<std::ptrdiff_t>(offset),
                    header.end());
    offset = 0;
  } else {
    offset -= header.size();
  }
  if (!payload.piped()) {
    partial_.insert(partial_.end(), payload.bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                    payload.bytes.end());
    return true;
  }
  const size_t kept = partial_.size();
  partial_.resize(kept + payload.pipe_bytes - offset);
  return ReadPipeExactly(payload.pipe, std::span(partial_).subspan(kept));
}

void TunnelLink::WriteLoop() {
  // The first Ping goes at once: its Pong gives the round trip that receive windows grow by.
  Deadline next_ping = Clock::now();
  int early_pings = kEarlyPings;
  std::vector<std::vector<uint8_t>> batch;
  MutexLock lock(queue_mutex_);
  while (true) {
    writer_waiting_ = true;
    writer_wakeup_.WaitUntil(queue_mutex_, next_ping, [&]() REQUIRES(queue_mutex_) {
      return dead_.load() || (owner_ == SocketOwner::kNone && HasWorkLocked());
    });
    writer_waiting_ = false;
    if (dead_.load()) return;
    if (Clock::now() >= next_ping) {
      // The nonce is the time of sending, which the Pong brings back (OnPong).
      const auto now = static_cast<uint64_t>(Clock::now().time_since_epoch().count());
      control_queue_.push_back(EncodeFrame({0, Ping{now}}));
      control_queue_bytes_ += control_queue_.back().size();
      next_ping = Clock::now() +
                  (early_pings-- > 0
                       ? std::min<Clock::duration>(kEarlyPingInterval, options_.keepalive_interval)
                       : options_.keepalive_interval);
    }
    // Someone else sends: it takes the Ping along, or wakes us when it is done.
    if (owner_ != SocketOwner::kNone || !HasWorkLocked()) continue;

    owner_ = SocketOwner::kWriterThread;
    batch.clear();
    if (!partial_.empty()) {
      batch.push_back(std::move(partial_));
      partial_.clear();
    }
    for (auto& frame : control_queue_) batch.push_back(std::move(frame));
    control_queue_.clear();
    control_queue_bytes_ = 0;
    size_t data_bytes = 0;
    size_t data_frames = 0;
    while (!data_queue_.empty() && data_bytes < kWriteBatchBytes && data_frames < kMaxBatchFrames) {
      data_bytes += data_queue_.front().size();
      ++data_frames;
      batch.push_back(std::move(data_queue_.front()));
      data_queue_.pop_front();
    }
    queued_data_bytes_ -= data_bytes;
    const bool wake_senders = data_bytes > 0 && sender_waiters_ > 0;
    lock.Unlock();
    if (wake_senders) senders_wakeup_.NotifyAll();

    std::vector<iovec>& pieces = owner_pieces_;
    pieces.clear();
    for (auto& frame : batch) pieces.push_back({frame.data(), frame.size()});
    int error = 0;
    SendPieces(pieces, true, Deadline::max(), error);
    lock.Lock();
    if (error != 0) {
      SendFailed(lock, error);
      return;
    }
    ReleaseSocket(lock);
    lock.Lock();
  }
}

}  // namespace tp::tunnel::detail
