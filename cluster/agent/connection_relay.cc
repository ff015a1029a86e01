#include "cluster/agent/connection_relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/companion_task.h"
#include "sync/mutex.h"

namespace tp::agent {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kRelayBufferBytes = 64 * 1024;
// Stream -> client: the most bytes handed on per call.
constexpr size_t kMoveBytes = 1024 * 1024;
constexpr int kPollSliceMs = static_cast<int>(kPollSlice.count());
constexpr std::chrono::milliseconds kWiretapWait{50};
constexpr std::chrono::seconds kWiretapDrainGrace{1};

// One direction of RelaySockets: bytes read from `from` wait in `buffer` until `to` takes them.
struct Direction {
  int from;
  int to;
  bool is_client;  // `from` is the client: the tap sees what it reads
  std::vector<uint8_t> buffer = std::vector<uint8_t>(kRelayBufferBytes);
  size_t start = 0;
  size_t end = 0;
  bool read_done = false;   // `from` sent FIN
  bool write_done = false;  // FIN passed on to `to`

  size_t Pending() const { return end - start; }
  bool WantsRead() const { return !read_done && Pending() == 0; }
};

enum class Step { kOk, kFailed };

Step ReadSome(Direction& direction, const ClientTap& tap) {
  const ssize_t got =
      ::recv(direction.from, direction.buffer.data(), direction.buffer.size(), MSG_DONTWAIT);
  if (got < 0) return errno == EAGAIN || errno == EINTR ? Step::kOk : Step::kFailed;
  direction.start = 0;
  direction.end = static_cast<size_t>(got);
  if (got == 0) direction.read_done = true;
  if (direction.is_client && tap) tap({direction.buffer.data(), direction.end});
  return Step::kOk;
}

Step WriteSome(Direction& direction) {
  const ssize_t sent = ::send(direction.to, direction.buffer.data() + direction.start,
                              direction.Pending(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (sent < 0) return errno == EAGAIN || errno == EINTR ? Step::kOk : Step::kFailed;
  direction.start += static_cast<size_t>(sent);
  return Step::kOk;
}

// Reads, writes and passes on FIN for one direction, without blocking.
Step Advance(Direction& direction, const ClientTap& tap) {
  if (direction.WantsRead() && ReadSome(direction, tap) == Step::kFailed) return Step::kFailed;
  if (direction.Pending() > 0 && WriteSome(direction) == Step::kFailed) return Step::kFailed;
  if (direction.read_done && direction.Pending() == 0 && !direction.write_done) {
    ::shutdown(direction.to, SHUT_WR);
    direction.write_done = true;
  }
  return Step::kOk;
}

// Waits for either socket to be ready for what the directions need, up to one slice.
void WaitForSockets(int client, int app, const Direction& up, const Direction& down) {
  const auto events = [](const Direction& reading, const Direction& writing) {
    short wanted = 0;
    if (reading.WantsRead()) wanted |= POLLIN;
    if (writing.Pending() > 0) wanted |= POLLOUT;
    return wanted;
  };
  pollfd waits[2] = {{client, events(up, down), 0}, {app, events(down, up), 0}};
  // A socket nothing is expected from is left out, so that its POLLHUP cannot spin the loop.
  for (pollfd& wait : waits) {
    if (wait.events == 0) wait.fd = -1;
  }
  ::poll(waits, 2, kPollSliceMs);
}

// State shared by the two directions of RelaySocketAndStream.
struct StreamRelay {
  int socket;
  tunnel::TunnelStream& stream;
  const std::atomic<bool>& stopping;
  std::atomic<bool> failed{false};

  bool Over() const { return failed.load() || stopping.load(); }
  // Ends the relay: the stream is reset and the socket's reading shut down, which wakes a
  // direction waiting to read it without telling the client anything (the caller resets it).
  void Fail() {
    if (failed.exchange(true)) return;
    stream.Reset();
    ::shutdown(socket, SHUT_RD);
  }
  // Waits until the socket is ready for `events`; false when the relay is over.
  bool WaitForSocket(short events) const {
    while (!Over() && !stream.Failed()) {
      pollfd wait{socket, events, 0};
      const int ready = ::poll(&wait, 1, kPollSliceMs);
      if (ready > 0) return true;
      if (ready < 0 && errno != EINTR) return false;
    }
    return false;
  }
};

bool WriteToStream(StreamRelay& relay, std::span<const uint8_t> bytes) {
  while (!bytes.empty() && !relay.Over()) {
    const tunnel::IoResult written = relay.stream.Write(bytes, Clock::now() + kPollSlice);
    bytes = bytes.subspan(written.bytes);
    if (written.error != 0 && written.error != ETIMEDOUT) return false;
  }
  return bytes.empty();
}

// Client -> stream. Polls only when the last read found the socket empty: one system call per
// chunk while bytes flow.
void CopySocketToStream(StreamRelay& relay) {
  std::vector<uint8_t> buffer(kRelayBufferBytes);
  bool drained = false;
  while (!relay.Over()) {
    if (drained && !relay.WaitForSocket(POLLIN)) break;
    const ssize_t got = ::recv(relay.socket, buffer.data(), buffer.size(), MSG_DONTWAIT);
    drained = got < static_cast<ssize_t>(buffer.size());
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got == 0) {
      relay.stream.CloseWrite();
      return;
    }
    if (got < 0 || !WriteToStream(relay, {buffer.data(), static_cast<size_t>(got)})) break;
  }
  relay.Fail();
}

// Stream -> client, handed from the tunnel's socket to the client's without a copy through this
// process (TunnelStream::ReadToSocket).
void CopyStreamToSocket(StreamRelay& relay) {
  while (!relay.Over()) {
    const tunnel::IoResult read =
        relay.stream.ReadToSocket(relay.socket, kMoveBytes, Clock::now() + kPollSlice);
    if (read.error == ETIMEDOUT) continue;
    if (read.error == EAGAIN && relay.WaitForSocket(POLLOUT)) continue;
    if (read.error != 0) break;
    if (read.bytes == 0) {
      ::shutdown(relay.socket, SHUT_WR);
      return;
    }
  }
  relay.Fail();
}

}  // namespace

RelayEnd RelaySockets(int client, int app, const std::atomic<bool>& stopping,
                      const ClientTap& tap) {
  Direction up{client, app, /*is_client=*/true};
  Direction down{app, client, /*is_client=*/false};
  while (!(up.write_done && down.write_done)) {
    if (stopping.load()) return RelayEnd::kStopped;
    WaitForSockets(client, app, up, down);
    if (Advance(up, tap) == Step::kFailed || Advance(down, tap) == Step::kFailed) {
      return RelayEnd::kReset;
    }
  }
  return RelayEnd::kClosed;
}

RelayEnd RelaySocketAndStream(int client, tunnel::TunnelStream& stream,
                              const std::atomic<bool>& stopping, TaskGroup* helpers) {
  StreamRelay relay{client, stream, stopping};
  // The client's request leaves from this thread: no thread start delays it. The answer comes
  // later, on another.
  CompanionTask downstream(helpers, [&relay] { CopyStreamToSocket(relay); });
  CopySocketToStream(relay);
  downstream.Join();
  if (relay.failed.load()) return RelayEnd::kReset;
  return stopping.load() ? RelayEnd::kStopped : RelayEnd::kClosed;
}

void ResetAndClose(UniqueFd socket) {
  if (!socket.Valid()) return;
  const linger reset{1, 0};
  ::setsockopt(socket.Get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  socket.Reset();
}

WiretapCopy::WiretapCopy(Opener open, size_t max_queued)
    : max_queued_(max_queued), thread_([this, open = std::move(open)] { Run(open); }) {}

WiretapCopy::~WiretapCopy() {
  {
    MutexLock lock(mutex_);
    client_done_ = true;
  }
  give_up_at_.store((Clock::now() + kWiretapDrainGrace).time_since_epoch().count());
  changed_.NotifyAll();
  thread_.join();
}

void WiretapCopy::Push(std::span<const uint8_t> bytes) {
  if (dropped_.load()) return;
  {
    MutexLock lock(mutex_);
    if (bytes.empty()) {
      client_done_ = true;
    } else if (queued_bytes_ + bytes.size() > max_queued_) {
      dropped_.store(true);  // fell behind: the copy is given up, the real connection goes on
      queue_.clear();
      queued_bytes_ = 0;
    } else {
      queue_.emplace_back(bytes.begin(), bytes.end());
      queued_bytes_ += bytes.size();
    }
  }
  changed_.NotifyAll();
}

bool WiretapCopy::SendQueued(tunnel::TunnelStream& stream) {
  while (!dropped_.load()) {
    std::vector<uint8_t> chunk;
    {
      MutexLock lock(mutex_);
      if (queue_.empty()) return true;
      chunk = std::move(queue_.front());
      queue_.pop_front();
      queued_bytes_ -= chunk.size();
    }
    std::span<const uint8_t> pending(chunk);
    while (!pending.empty() && !dropped_.load() && !PastGiveUp()) {
      const tunnel::IoResult written = stream.Write(pending, Clock::now() + kPollSlice);
      pending = pending.subspan(written.bytes);
      copied_ += written.bytes;
      if (written.error != 0 && written.error != ETIMEDOUT) return false;
    }
    if (!pending.empty()) return false;
  }
  return false;
}

bool WiretapCopy::PastGiveUp() const {
  const int64_t give_up_at = give_up_at_.load();
  return give_up_at != 0 && Clock::now().time_since_epoch().count() >= give_up_at;
}

void WiretapCopy::Run(Opener open) {
  std::unique_ptr<tunnel::TunnelStream> stream = open();
  if (!stream) {
    dropped_.store(true);
    return;
  }
  std::vector<uint8_t> replies(kRelayBufferBytes);
  bool replies_done = false;
  bool write_closed = false;
  while (!dropped_.load() && !PastGiveUp()) {
    bool client_done = false;
    {
      MutexLock lock(mutex_);
      changed_.WaitFor(mutex_, kWiretapWait, [this]() REQUIRES(mutex_) {
        return !queue_.empty() || client_done_ || dropped_.load();
      });
      client_done = client_done_;
    }
    if (!SendQueued(*stream)) break;
    // The handler's answers are read and dropped, so that its window never closes.
    while (!replies_done) {
      const tunnel::IoResult read = stream->Read(replies, Clock::now());
      if (read.error == ETIMEDOUT) break;
      if (read.error != 0 || read.bytes == 0) replies_done = true;
    }
    if (client_done && !write_closed) {
      MutexLock lock(mutex_);
      if (queue_.empty()) {
        stream->CloseWrite();
        write_closed = true;
      }
    }
    if (write_closed && replies_done) return;
  }
  dropped_.store(true);
  stream->Reset();
}

}  // namespace tp::agent
