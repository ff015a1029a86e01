#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"
#include "tunnel/tunnel_link.h"

namespace tp::tunnel {

using detail::Clock;
using detail::kCloseQueueTimeout;
using detail::kRingKeepBytes;
using detail::kWindowGrantDivisor;
using detail::StreamPhase;
using detail::StreamState;
using detail::TunnelLink;

TunnelStream::TunnelStream(std::shared_ptr<StreamState> state, std::shared_ptr<TunnelLink> link)
    : state_(std::move(state)), link_(std::move(link)) {}

TunnelStream::~TunnelStream() {
  StreamPhase phase;
  bool finished = false;
  {
    MutexLock lock(state_->mutex);
    phase = state_->phase;
    finished = state_->Finished();
  }
  if (phase == StreamPhase::kAccepting) {
    Refuse(ECONNREFUSED, "stream not accepted");
  } else if (!finished) {
    Reset();
  }
  size_t growth = 0;
  {
    MutexLock lock(state_->mutex);
    growth = std::exchange(state_->window_growth, 0);
  }
  link_->ReleaseWindowGrowth(growth);
  link_->Forget(state_->id);
}

uint32_t TunnelStream::id() const { return state_->id; }

namespace {

// Moves up to into.size() piped bytes out of the pipe by copy (they are there: no wait).
size_t TakePiped(StreamState& state, std::span<uint8_t> into) REQUIRES(state.mutex) {
  const size_t ask = std::min(into.size(), state.piped);
  const ssize_t got = ::read(state.pipe.read_end.Get(), into.data(), ask);
  if (got <= 0) return 0;
  state.piped -= static_cast<size_t>(got);
  return static_cast<size_t>(got);
}

// `count` bytes were read. Returns the credit to grant the peer now (0: none yet): what was read
// since the last grant, once that is a quarter of the window, plus the window's growth.
uint32_t ConsumedLocked(TunnelLink& link, StreamState& state, size_t count) REQUIRES(state.mutex) {
  if (!state.filling) state.received.ResetIfEmpty(kRingKeepBytes);
  if (count > 0 && state.epoch_start == Clock::time_point()) state.epoch_start = Clock::now();
  state.consumed_since_grant += count;
  if (state.consumed_since_grant < state.receive_window / kWindowGrantDivisor ||
      state.phase != StreamPhase::kOpen || state.peer_closed_write) {
    return 0;
  }
  const size_t grant = link.AdjustWindowLocked(state, state.consumed_since_grant, Clock::now());
  state.consumed_since_grant = 0;
  state.receive_allowance += grant;
  return static_cast<uint32_t>(grant);
}

// The error reads and writes report for a failed stream: its own, unless that would read as
// "deadline passed, try again" (a refusal with ETIMEDOUT or EAGAIN, from a dial that timed out
// on the far side): then ECONNRESET.
int FailureError(const StreamState& state) REQUIRES(state.mutex) {
  return state.error == 0 || state.error == ETIMEDOUT || state.error == EAGAIN ? ECONNRESET
                                                                               : state.error;
}

// How long a wait may last: until `deadline`, and while an open is unanswered, until its
// answer's deadline at the latest.
Deadline WaitLimit(const StreamState& state, Deadline deadline) REQUIRES(state.mutex) {
  return state.phase == StreamPhase::kOpening ? std::min(deadline, state.answer_deadline)
                                              : deadline;
}

// Makes the stream's splice pipe on first use (a stream that cannot have one copies instead).
void EnsurePipe(StreamState& state) REQUIRES(state.mutex) {
  if (state.pipe.Valid() || state.pipe_refused) return;
  state.pipe = SplicePipe::Make();
  state.pipe_refused = !state.pipe.Valid();
}

// Waits, within `deadline`, until the stream has payload in its pipe or its buffer, or its end
// or failure came.
void AwaitPayload(StreamState& state, Deadline deadline) REQUIRES(state.mutex) {
  const auto ready = [&]() REQUIRES(state.mutex) {
    return state.piped > 0 || !state.received.empty() || state.peer_closed_write ||
           state.phase == StreamPhase::kFailed;
  };
  if (ready()) return;
  state.reader_starved = true;
  state.WaitUntil(WaitLimit(state, deadline), ready);
}

// What a read that found no bytes returns: the stream's failure, ETIMEDOUT while the peer may
// still send, else the end of the stream (bytes 0, no error).
IoResult NothingToRead(const StreamState& state) REQUIRES(state.mutex) {
  if (state.phase == StreamPhase::kFailed) return {0, FailureError(state)};
  if (!state.peer_closed_write) return {0, ETIMEDOUT};
  return {};
}

}  // namespace

void TunnelStream::ExpireUnansweredOpen() {
  {
    MutexLock lock(state_->mutex);
    if (state_->phase != StreamPhase::kOpening || Clock::now() < state_->answer_deadline) return;
  }
  state_->Fail(ECONNRESET, "no answer to the open in time");
  link_->SendControl({state_->id, Close{CloseMode::kReset}});
  link_->Forget(state_->id);
}

IoResult TunnelStream::Read(std::span<uint8_t> into, Deadline deadline) {
  ExpireUnansweredOpen();
  StreamState& state = *state_;
  IoResult result;
  uint32_t grant = 0;
  {
    MutexLock lock(state.mutex);
    const auto ended = [&]() REQUIRES(state.mutex) {
      return state.peer_closed_write || state.phase == StreamPhase::kFailed;
    };
    const auto available = [&]() REQUIRES(state.mutex) {
      return state.piped > 0 || !state.received.empty();
    };
    if (state.piped > 0) {
      result.bytes = TakePiped(state, into);
    } else if (!state.received.empty()) {
      result.bytes = state.received.Take(into);
    } else if (!ended() && !into.empty()) {
      // Lend `into` to the reader thread: the stream's next bytes arrive there directly. (Bytes
      // it is receiving into the ring or the pipe right now land there instead.)
      state.lent = into;
      state.lent_filled = 0;
      state.reader_starved = true;
      state.WaitUntil(WaitLimit(state, deadline), [&]() REQUIRES(state.mutex) {
        return (state.lent_filled > 0 || available() || ended()) && !state.filling;
      });
      if (state.filling) state.Wait([&]() REQUIRES(state.mutex) { return !state.filling; });
      result.bytes = state.lent_filled;
      state.lent = {};
      state.lent_filled = 0;
    } else if (!ended()) {
      state.reader_starved = true;
      state.WaitUntil(WaitLimit(state, deadline),
                      [&]() REQUIRES(state.mutex) { return available() || ended(); });
    }
    if (result.bytes == 0) {
      if (state.piped > 0) {
        result.bytes = TakePiped(state, into);
      } else if (!state.received.empty()) {
        result.bytes = state.received.Take(into);
      } else {
        return NothingToRead(state);
      }
    }
    grant = ConsumedLocked(*link_, state, result.bytes);
  }
  if (grant > 0) link_->SendControl({state.id, Window{grant}});
  return result;
}

IoResult TunnelStream::ReadToSocket(int socket, size_t max, Deadline deadline) {
  ExpireUnansweredOpen();
  StreamState& state = *state_;
  IoResult result;
  uint32_t grant = 0;
  {
    MutexLock lock(state.mutex);
    if (!state.pipe.Valid() && !state.pipe_refused) {
      // A splice(2) into a blocking socket waits there holding the pipe, and with it the
      // reader thread that splices into the pipe: the whole tunnel would stall.
      ::fcntl(socket, F_SETFL, ::fcntl(socket, F_GETFL) | O_NONBLOCK);
      EnsurePipe(state);
    }
    AwaitPayload(state, deadline);
    if (state.piped > 0) {
      // Only this thread takes from the pipe, so the bytes stay there without the lock.
      const size_t ask = std::min(max, state.piped);
      const int pipe = state.pipe.read_end.Get();
      lock.Unlock();
      const ssize_t moved = SpliceSome(pipe, socket, ask);
      const int error = errno;
      lock.Lock();
      if (moved <= 0) return {0, moved < 0 ? error : EPIPE};
      state.piped -= static_cast<size_t>(moved);
      result.bytes = static_cast<size_t>(moved);
    } else if (!state.received.empty()) {
      iovec pieces[2];
      msghdr message{};
      message.msg_iov = pieces;
      message.msg_iovlen = state.received.Content(pieces);
      if (pieces[0].iov_len > max) pieces[0].iov_len = max;
      if (message.msg_iovlen > 1 && pieces[0].iov_len + pieces[1].iov_len > max) {
        pieces[1].iov_len = max - pieces[0].iov_len;
      }
      const ssize_t sent = ::sendmsg(socket, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent <= 0) return {0, sent < 0 ? errno : EPIPE};
      state.received.Drop(static_cast<size_t>(sent));
      result.bytes = static_cast<size_t>(sent);
    } else {
      return NothingToRead(state);
    }
    grant = ConsumedLocked(*link_, state, result.bytes);
  }
  if (grant > 0) link_->SendControl({state.id, Window{grant}});
  return result;
}

namespace {

// Writes all of `bytes` to `to`, in deadline slices, until done or a failure other than a
// timeout (a reset of `to` ends it).
IoResult WriteFully(TunnelStream& to, std::span<const uint8_t> bytes, Deadline deadline) {
  IoResult result;
  while (result.bytes < bytes.size()) {
    const Deadline slice = std::max(deadline, Clock::now() + std::chrono::milliseconds(250));
    const IoResult written = to.Write(bytes.subspan(result.bytes), slice);
    result.bytes += written.bytes;
    if (written.error != 0 && written.error != ETIMEDOUT) {
      result.error = written.error;
      break;
    }
  }
  return result;
}

}  // namespace

IoResult TunnelStream::ForwardTo(TunnelStream& to, std::span<uint8_t> scratch, Deadline deadline) {
  ExpireUnansweredOpen();
  StreamState& state = *state_;
  IoResult result;
  uint32_t grant = 0;
  {
    MutexLock lock(state.mutex);
    EnsurePipe(state);
    AwaitPayload(state, deadline);
    if (state.piped > 0) {
      // Only this thread takes from the pipe, so the bytes stay there without the lock.
      const size_t ask = state.piped;
      const int pipe = state.pipe.read_end.Get();
      lock.Unlock();
      result = to.WriteFromPipe(pipe, ask, deadline);
      lock.Lock();
      state.piped -= result.bytes;
    } else if (!state.received.empty() && !scratch.empty()) {
      const size_t taken = state.received.Take(scratch);
      lock.Unlock();
      result = WriteFully(to, scratch.first(taken), deadline);
      lock.Lock();
    } else {
      return NothingToRead(state);
    }
    grant = ConsumedLocked(*link_, state, result.bytes);
  }
  if (grant > 0) link_->SendControl({state.id, Window{grant}});
  return result;
}

IoResult TunnelStream::Write(std::span<const uint8_t> bytes, Deadline deadline) {
  return WriteFrom(bytes, -1, bytes.size(), deadline);
}

IoResult TunnelStream::WriteFromPipe(int pipe, size_t count, Deadline deadline) {
  return WriteFrom({}, pipe, count, deadline);
}

IoResult TunnelStream::WriteFrom(std::span<const uint8_t> bytes, int pipe, size_t count,
                                 Deadline deadline) {
  ExpireUnansweredOpen();
  StreamState& state = *state_;
  IoResult result;
  while (result.bytes < count) {
    size_t chunk = 0;
    {
      MutexLock lock(state.mutex);
      const bool ready = state.WaitUntil(WaitLimit(state, deadline), [&]() REQUIRES(state.mutex) {
        return state.send_credit > 0 || state.phase == StreamPhase::kFailed ||
               state.local_closed_write;
      });
      if (state.phase == StreamPhase::kFailed) {
        result.error = FailureError(state);
        return result;
      }
      if (state.local_closed_write) {
        result.error = EPIPE;
        return result;
      }
      if (!ready) {
        result.error = ETIMEDOUT;
        return result;
      }
      chunk = std::min({count - result.bytes, state.send_credit, kMaxDataChunk});
      state.send_credit -= chunk;
    }
    const auto header = DataFrameHeader(state.id, chunk);
    detail::Payload payload;
    if (pipe >= 0) {
      payload.pipe = pipe;
      payload.pipe_bytes = chunk;
    } else {
      payload.bytes = bytes.subspan(result.bytes, chunk);
    }
    if (const int error = link_->SendData(header, payload, deadline); error != 0) {
      MutexLock lock(state.mutex);
      state.send_credit += chunk;  // not sent, so not spent
      result.error = error == EIO ? ECONNRESET : error;
      return result;
    }
    result.bytes += chunk;
  }
  return result;
}

void TunnelStream::CloseWrite() {
  bool finished = false;
  bool wake = false;
  {
    MutexLock lock(state_->mutex);
    const bool writable =
        state_->phase == StreamPhase::kOpen || state_->phase == StreamPhase::kOpening;
    if (!writable || state_->local_closed_write) return;
    state_->local_closed_write = true;
    finished = state_->Finished();
    wake = state_->ShouldWake();
  }
  if (wake) state_->changed.NotifyAll();
  // Behind this stream's data (sent or queued), so the peer reads everything first.
  std::vector<uint8_t> frame = EncodeFrame({state_->id, Close{CloseMode::kHalfClose}});
  if (link_->SendData(frame, detail::Payload{}, Clock::now() + kCloseQueueTimeout, &frame) != 0) {
    Reset();
  }
  if (finished) link_->Forget(state_->id);
}

void TunnelStream::Reset() {
  {
    MutexLock lock(state_->mutex);
    if (state_->Finished()) return;
  }
  state_->Fail(ECONNRESET, "stream reset locally");
  link_->SendControl({state_->id, Close{CloseMode::kReset}});
  link_->Forget(state_->id);
}

IoResult TunnelStream::AwaitOpen(Deadline deadline) {
  ExpireUnansweredOpen();
  StreamState& state = *state_;
  MutexLock lock(state.mutex);
  state.WaitUntil(WaitLimit(state, deadline),
                  [&]() REQUIRES(state.mutex) { return state.phase != StreamPhase::kOpening; });
  if (state.phase == StreamPhase::kFailed) return {0, FailureError(state)};
  if (state.phase == StreamPhase::kOpening) {
    if (Clock::now() < state.answer_deadline) return {0, ETIMEDOUT};
    lock.Unlock();
    ExpireUnansweredOpen();
    return {0, ECONNRESET};
  }
  return {};
}

void TunnelStream::Accept() {
  bool wake = false;
  uint32_t grant = 0;
  {
    MutexLock lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
    state_->phase = StreamPhase::kOpen;
    state_->opened = true;
    wake = state_->ShouldWake();
    grant = ConsumedLocked(*link_, *state_, 0);  // the early bytes read while accepting
  }
  if (wake) state_->changed.NotifyAll();
  link_->SendControl({state_->id, Opened{}});
  if (grant > 0) link_->SendControl({state_->id, Window{grant}});
}

void TunnelStream::Refuse(int error_code, const std::string& reason) {
  {
    MutexLock lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
  }
  state_->Fail(error_code, reason);
  link_->SendControl({state_->id, OpenFailed{error_code, reason}});
  link_->Forget(state_->id);
}

bool TunnelStream::WasOpened() const {
  MutexLock lock(state_->mutex);
  return state_->opened;
}

bool TunnelStream::Failed() const {
  MutexLock lock(state_->mutex);
  return state_->phase == StreamPhase::kFailed;
}

std::string TunnelStream::FailureReason() const {
  MutexLock lock(state_->mutex);
  return state_->failure_reason;
}

}  // namespace tp::tunnel
