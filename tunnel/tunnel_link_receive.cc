#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_link.h"

namespace tp::tunnel::detail {

namespace {

// Takes `size` bytes of a Data frame from the stream's credit; a sentence when they break the
// protocol. Before the handler accepts, the opener may send its first bytes (protocol version 2).
std::string AdmitData(StreamState& state, uint32_t id, size_t size) REQUIRES(state.mutex) {
  const bool open_for_data =
      state.phase == StreamPhase::kOpen || state.phase == StreamPhase::kAccepting;
  if (!open_for_data || state.peer_closed_write) {
    return "data on stream " + std::to_string(id) + " that is not open for it";
  }
  if (size > state.receive_allowance) {
    return "peer overran the credit window of stream " + std::to_string(id);
  }
  state.receive_allowance -= size;
  return "";
}

}  // namespace

std::string TunnelLink::StartData(uint32_t id, size_t size, Incoming& incoming) {
  incoming.remaining = size;
  incoming.stream = Find(id);
  if (!incoming.stream) return "";  // a stream we already forgot; its last bytes are dropped
  {
    StreamState& state = *incoming.stream;
    MutexLock lock(state.mutex);
    // Refused or reset here and not yet forgotten: the peer sent these before it heard. Dropped.
    if (state.phase != StreamPhase::kFailed) return AdmitData(state, id, size);
  }
  incoming.stream.reset();  // after the unlock: this may be the state's last reference
  return "";
}

void TunnelLink::Deliver(const std::shared_ptr<StreamState>& stream,
                         std::span<const uint8_t> bytes) {
  StreamState& state = *stream;
  WakeUp wake = WakeUp::kNone;
  {
    MutexLock lock(state.mutex);
    if (state.phase == StreamPhase::kFailed) return;
    if (state.received.empty() && state.pipe.Valid() && state.lent.empty()) {
      // Behind what is in the pipe; what the pipe does not take goes to the ring after it.
      const ssize_t written = ::write(state.pipe.write_end.Get(), bytes.data(), bytes.size());
      if (written > 0) {
        state.piped += static_cast<size_t>(written);
        bytes = bytes.subspan(static_cast<size_t>(written));
      }
    }
    if (state.received.empty() && state.piped == 0 && state.lent_filled < state.lent.size()) {
      const size_t count = std::min(bytes.size(), state.lent.size() - state.lent_filled);
      std::memcpy(state.lent.data() + state.lent_filled, bytes.data(), count);
      state.lent_filled += count;
      bytes = bytes.subspan(count);
    }
    if (!bytes.empty()) state.received.Append(bytes);
    wake = WakeUpNeeded(state);
  }
  WakeReader(stream, wake);
}

size_t TunnelLink::ClaimTarget(StreamState& state, size_t limit, iovec* pieces, size_t& count) {
  MutexLock lock(state.mutex);
  if (state.phase == StreamPhase::kFailed) return 0;
  state.filling = true;
  state.filling_pipe = false;
  if (state.received.empty() && state.piped == 0 && state.lent_filled < state.lent.size()) {
    const size_t size = std::min(limit, state.lent.size() - state.lent_filled);
    pieces[count++] = {state.lent.data() + state.lent_filled, size};
    state.filling_lent = true;
    return size;
  }
  state.filling_lent = false;
  state.received.Reserve(limit);
  const size_t added = state.received.FreeSpace(limit, pieces + count);
  size_t size = 0;
  for (size_t index = 0; index < added; ++index) size += pieces[count + index].iov_len;
  count += added;
  return size;
}

int TunnelLink::ClaimPipe(StreamState& state) {
  MutexLock lock(state.mutex);
  if (state.phase == StreamPhase::kFailed || !state.pipe.Valid() || !state.received.empty() ||
      !state.lent.empty()) {
    return -1;
  }
  state.filling = true;
  state.filling_lent = false;
  state.filling_pipe = true;
  return state.pipe.write_end.Get();
}

TunnelLink::SpliceOutcome TunnelLink::SpliceIncoming(Incoming& incoming) {
  const std::shared_ptr<StreamState> stream = incoming.stream;
  const int pipe = ClaimPipe(*stream);
  if (pipe < 0) return SpliceOutcome::kUseRing;
  const ssize_t moved = SpliceSome(socket_.Get(), pipe, incoming.remaining);
  const int error = errno;
  FinishTarget(stream, moved > 0 ? static_cast<size_t>(moved) : 0);
  if (moved > 0) {
    last_received_.store(Clock::now().time_since_epoch().count());
    incoming.remaining -= static_cast<size_t>(moved);
    if (incoming.remaining == 0) incoming.stream.reset();
    return SpliceOutcome::kMoved;
  }
  if (moved < 0 && error == EAGAIN) {
    // Nothing to read, or the pipe is full.
    int readable = 0;
    if (::ioctl(socket_.Get(), FIONREAD, &readable) == 0 && readable == 0) {
      return SpliceOutcome::kSocketEmpty;
    }
    return SpliceOutcome::kUseRing;
  }
  if (moved < 0 && (error == EINTR || error == EINVAL)) return SpliceOutcome::kUseRing;
  Break(moved == 0 ? "peer closed the connection" : std::strerror(error));
  return SpliceOutcome::kBroken;
}

void TunnelLink::FinishTarget(const std::shared_ptr<StreamState>& stream, size_t got) {
  StreamState& state = *stream;
  WakeUp wake = WakeUp::kNone;
  {
    MutexLock lock(state.mutex);
    if (state.filling_pipe) {
      state.piped += got;
      state.filling_pipe = false;
    } else if (state.filling_lent) {
      state.lent_filled += got;
    } else {
      state.received.Commit(got);
    }
    state.filling = false;
    wake = got == 0 && state.ShouldWake() ? WakeUp::kNow : WakeUpNeeded(state);
  }
  WakeReader(stream, wake);
}

TunnelLink::WakeUp TunnelLink::WakeUpNeeded(const StreamState& state) {
  if (!state.ShouldWake()) return WakeUp::kNone;
  // A Read whose lent buffer is filling may get more at once: one wake-up for all of it.
  const bool lent_filling = !state.lent.empty() && state.received.empty() &&
                            state.lent_filled < std::min(state.lent.size(), kEarlyWakeBytes);
  const bool pipe_filling =
      state.lent.empty() && state.received.empty() && state.piped < kEarlyWakeBytes;
  return lent_filling || (state.pipe.Valid() && pipe_filling) ? WakeUp::kSoon : WakeUp::kNow;
}

void TunnelLink::WakeReader(const std::shared_ptr<StreamState>& stream, WakeUp wake) {
  if (wake == WakeUp::kNone) return;
  if (wake_pending_ != stream) FlushWakeUp();
  if (wake == WakeUp::kSoon) {
    wake_pending_ = stream;
    return;
  }
  wake_pending_.reset();
  stream->changed.NotifyAll();
}

void TunnelLink::FlushWakeUp() {
  if (!wake_pending_) return;
  const std::shared_ptr<StreamState> stream = std::move(wake_pending_);
  wake_pending_.reset();
  stream->changed.NotifyAll();
}

std::string TunnelLink::OnOpenTcp(uint32_t id, const OpenTcp& request) {
  const bool id_from_peer = (id % 2 == 1) == (role_ == Role::kServer);
  if (!id_from_peer || id == 0) return "OpenTcp with stream id " + std::to_string(id);
  auto state = std::make_shared<StreamState>(id, StreamPhase::kAccepting);
  {
    MutexLock lock(streams_mutex_);
    if (!streams_.emplace(id, state).second)
      return "OpenTcp reuses stream id " + std::to_string(id);
  }
  std::unique_ptr<TunnelStream> stream(new TunnelStream(state, shared_from_this()));
  if (handlers_.on_open_tcp) handlers_.on_open_tcp(std::move(stream), request);
  return "";  // an unhandled stream is refused by its destructor
}

void TunnelLink::OnClose(uint32_t id, CloseMode mode) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  if (mode == CloseMode::kReset) {
    state->Fail(ECONNRESET, "stream reset by peer");
    Forget(id);
    return;
  }
  bool finished = false;
  bool wake = false;
  {
    MutexLock lock(state->mutex);
    state->peer_closed_write = true;
    finished = state->Finished();
    wake = state->ShouldWake();
  }
  if (wake) state->changed.NotifyAll();
  if (finished) Forget(id);
}

void TunnelLink::OnOpenAnswer(uint32_t id, int error, const std::string& reason) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  if (error != 0) {
    state->Fail(error, reason);
    Forget(id);
    return;
  }
  bool wake = false;
  Clock::time_point open_sent;
  {
    MutexLock lock(state->mutex);
    if (state->phase == StreamPhase::kOpening) {
      state->phase = StreamPhase::kOpen;
      state->opened = true;
    }
    wake = state->ShouldWake();
    open_sent = state->open_sent;
  }
  if (open_sent != Clock::time_point()) NoteRoundTrip(Clock::now() - open_sent);
  if (wake) state->changed.NotifyAll();
}

void TunnelLink::OnWindow(uint32_t id, uint32_t credit) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  bool wake = false;
  {
    MutexLock lock(state->mutex);
    state->send_credit += credit;
    wake = state->ShouldWake();
  }
  if (wake) state->changed.NotifyAll();
}

void TunnelLink::OnDnsAnswer(uint32_t id, DnsAnswer& answer) {
  std::promise<DnsResult> promise;
  {
    MutexLock lock(dns_mutex_);
    const auto found = pending_dns_.find(id);
    if (found == pending_dns_.end()) return;  // timed out already
    promise = std::move(found->second);
    pending_dns_.erase(found);
  }
  promise.set_value({answer.error_code, std::move(answer.message)});
}

void TunnelLink::OnRequest(uint32_t id, Request& request) {
  if (handlers_.on_request) {
    handlers_.on_request(id, std::move(request));
    return;
  }
  // Small and never waiting: the reader thread must not block on a full queue.
  SendControl({id, Reply{ENOSYS, R"({"error":"this side of the tunnel takes no requests"})"}});
}

void TunnelLink::OnPong(uint64_t nonce) {
  const Clock::rep sent = static_cast<Clock::rep>(nonce);
  const Clock::rep now = Clock::now().time_since_epoch().count();
  if (sent <= 0 || sent > now) return;  // not a Ping of ours
  NoteRoundTrip(Clock::duration(now - sent));
}

void TunnelLink::OnReply(uint32_t id, Reply& reply) {
  std::promise<CallResult> promise;
  {
    MutexLock lock(calls_mutex_);
    const auto found = pending_calls_.find(id);
    if (found == pending_calls_.end()) return;  // timed out already
    promise = std::move(found->second);
    pending_calls_.erase(found);
  }
  promise.set_value({reply.error_code, std::move(reply.body)});
}

std::string TunnelLink::Dispatch(Frame& frame) {
  const uint32_t id = frame.id;
  switch (frame.type()) {
    case FrameType::kData: {  // not reached: the read loop streams Data payloads
      Incoming incoming;
      const auto& bytes = std::get<Data>(frame.body).bytes;
      std::string violation = StartData(id, bytes.size(), incoming);
      if (violation.empty() && incoming.stream) Deliver(incoming.stream, bytes);
      return violation;
    }
    case FrameType::kWindow:
      OnWindow(id, std::get<Window>(frame.body).credit);
      return "";
    case FrameType::kClose:
      OnClose(id, std::get<Close>(frame.body).mode);
      return "";
    case FrameType::kOpenTcp:
      return OnOpenTcp(id, std::get<OpenTcp>(frame.body));
    case FrameType::kOpened:
      OnOpenAnswer(id, 0, "");
      return "";
    case FrameType::kOpenFailed: {
      const auto& failed = std::get<OpenFailed>(frame.body);
      OnOpenAnswer(id, failed.error_code != 0 ? failed.error_code : ECONNREFUSED, failed.reason);
      return "";
    }
    case FrameType::kUdpDatagram:
      if (handlers_.on_udp_datagram) {
        handlers_.on_udp_datagram(id, std::move(std::get<UdpDatagram>(frame.body)));
      }
      return "";
    case FrameType::kUdpReply:
      if (handlers_.on_udp_reply)
        handlers_.on_udp_reply(id, std::move(std::get<UdpReply>(frame.body)));
      return "";
    case FrameType::kDnsQuery:
      if (handlers_.on_dns_query)
        handlers_.on_dns_query(id, std::move(std::get<DnsQuery>(frame.body)));
      return "";
    case FrameType::kDnsAnswer:
      OnDnsAnswer(id, std::get<DnsAnswer>(frame.body));
      return "";
    case FrameType::kPing:
      SendControl({0, Pong{std::get<Ping>(frame.body).nonce}});
      return "";
    case FrameType::kPong:
      OnPong(std::get<Pong>(frame.body).nonce);
      return "";
    case FrameType::kSubnetsChanged:
      if (handlers_.on_subnets_changed) {
        handlers_.on_subnets_changed(std::move(std::get<SubnetsChanged>(frame.body).subnets));
      }
      return "";
    case FrameType::kRequest:
      OnRequest(id, std::get<Request>(frame.body));
      return "";
    case FrameType::kReply:
      OnReply(id, std::get<Reply>(frame.body));
      return "";
    case FrameType::kHello:
    case FrameType::kWelcome:
    case FrameType::kRefused:
      break;
  }
  return std::string(FrameTypeName(frame.type())) + " frame after the handshake";
}

bool TunnelLink::DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end,
                                  Incoming& incoming, bool& large_data) {
  while (begin < end) {
    if (incoming.remaining > 0) {
      const size_t count = std::min(incoming.remaining, end - begin);
      if (incoming.stream) Deliver(incoming.stream, std::span(buffer).subspan(begin, count));
      begin += count;
      incoming.remaining -= count;
      if (incoming.remaining == 0) incoming.stream.reset();
      continue;
    }
    const auto available = std::span<const uint8_t>(buffer).subspan(begin, end - begin);
    const HeaderDecodeResult header = DecodeFrameHeader(available);
    if (header.status == DecodeStatus::kNeedMore) return true;
    if (header.status == DecodeStatus::kMalformed) {
      Break("malformed frame from peer: " + std::string(MalformedReasonName(header.reason)));
      return false;
    }
    if (header.header.type == FrameType::kData) {
      const size_t size = header.header.payload_size;
      if (std::string violation = StartData(header.header.id, size, incoming); !violation.empty()) {
        Break("protocol violation: " + violation);
        return false;
      }
      large_data = size > kSmallReadBytes;
      begin += kFrameHeaderSize;
      if (incoming.remaining == 0) incoming.stream.reset();
      continue;
    }
    DecodeResult decoded = DecodeFrame(available);
    if (decoded.status == DecodeStatus::kNeedMore) return true;
    FlushWakeUp();
    if (decoded.status == DecodeStatus::kMalformed) {
      Break("malformed frame from peer: " + std::string(MalformedReasonName(decoded.reason)));
      return false;
    }
    begin += decoded.consumed;
    if (const std::string violation = Dispatch(decoded.frame); !violation.empty()) {
      Break("protocol violation: " + violation);
      return false;
    }
  }
  return true;
}

void TunnelLink::ReadLoop() {
  std::vector<uint8_t> buffer(kReadBufferBytes);
  size_t begin = 0;
  size_t end = 0;
  Incoming incoming;
  bool large_data = false;  // the last Data frame was large: more are likely to follow
  bool piped_data = false;  // the last payload went to a pipe: read headers alone
  bool drained = false;     // the last read emptied the socket: wait before the next
  while (!dead_.load()) {
    if (!DispatchBuffered(buffer, begin, end, incoming, large_data)) break;
    if (drained) {
      // Wake whoever waits for what came, then wait for more, at most until the peer counts as
      // gone.
      FlushWakeUp();
      const Deadline silent_until =
          Clock::time_point(Clock::duration(last_received_.load())) + options_.dead_after;
      pollfd waiter{socket_.Get(), POLLIN, 0};
      const int ready = ::poll(&waiter, 1, MillisecondsUntil(silent_until));
      if (ready == 0) {
        if (Clock::now() < silent_until) continue;
        Break("no frame from peer for " + std::to_string(options_.dead_after.count()) + " ms");
        break;
      }
      drained = false;
    }
    // What is left is the start of a header or of a frame other than Data: keep it at the
    // front when room runs short; grow only for a frame larger than the buffer.
    if (begin == end) {
      begin = end = 0;
    } else {
      size_t needed = kFrameHeaderSize;
      if (end - begin >= 4) {
        needed = 4 + ((size_t{buffer[begin]} << 24) | (size_t{buffer[begin + 1]} << 16) |
                      (size_t{buffer[begin + 2]} << 8) | buffer[begin + 3]);
      }
      if (begin + needed > buffer.size() || buffer.size() - end < kSmallReadBytes) {
        std::memmove(buffer.data(), buffer.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (needed > buffer.size()) buffer.resize(std::min(needed, kMaxFrameSize));
    }

    // A payload for a stream read through a pipe: from the socket to the pipe, no copy.
    if (incoming.remaining > 0 && incoming.stream) {
      const SpliceOutcome outcome = SpliceIncoming(incoming);
      if (outcome == SpliceOutcome::kBroken) break;
      piped_data = outcome != SpliceOutcome::kUseRing;
      drained = outcome == SpliceOutcome::kSocketEmpty;
      if (outcome != SpliceOutcome::kUseRing) continue;
    }

    // One read: the payload under way straight to where it belongs, then the reader's buffer
    // for what follows (a little while large frames come, as much as fits otherwise).
    iovec pieces[3];
    size_t count = 0;
    size_t direct = 0;
    std::shared_ptr<StreamState> target;
    if (incoming.remaining > 0 && incoming.stream) {
      direct = ClaimTarget(*incoming.stream, incoming.remaining, pieces, count);
      if (direct > 0) {
        target = incoming.stream;
      } else {
        incoming.stream.reset();  // failed meanwhile: drop the rest of its payload
      }
    }
    size_t room = buffer.size() - end;
    if (target != nullptr || (incoming.remaining == 0 && large_data)) {
      room = std::min(room, kSmallReadBytes);
    }
    if (target == nullptr && piped_data && end - begin < kFrameHeaderSize) {
      room = std::min(room, kFrameHeaderSize - (end - begin));  // the next header, no more
    }
    if (target != nullptr) piped_data = false;
    pieces[count++] = {buffer.data() + end, room};
    const size_t asked = direct + room;
    msghdr message{};
    message.msg_iov = pieces;
    message.msg_iovlen = count;
    const ssize_t got = ::recvmsg(socket_.Get(), &message, MSG_DONTWAIT);
    const int receive_error = errno;
    const size_t to_target = got > 0 ? std::min(static_cast<size_t>(got), direct) : 0;
    if (target) FinishTarget(target, to_target);
    if (got > 0) {
      last_received_.store(Clock::now().time_since_epoch().count());
      incoming.remaining -= to_target;
      if (incoming.remaining == 0) incoming.stream.reset();
      end += static_cast<size_t>(got) - to_target;
      drained = static_cast<size_t>(got) < asked;
      continue;
    }
    if (got == 0) {
      Break("peer closed the connection");
      break;
    }
    if (receive_error == EINTR) continue;
    if (receive_error != EAGAIN) {
      Break(std::strerror(receive_error));
      break;
    }
    drained = true;
  }
  incoming.stream.reset();
  FlushWakeUp();
  if (handlers_.on_closed) handlers_.on_closed(FailureReason());
}

}  // namespace tp::tunnel::detail
