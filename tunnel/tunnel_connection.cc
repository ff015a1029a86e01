#include "tunnel/tunnel_connection.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>

#include "tunnel/tcp_dial.h"

namespace tp::tunnel {
namespace {

using Clock = std::chrono::steady_clock;

// Credit goes back to the peer in grants of at least this much, to keep Window frames few.
constexpr size_t kWindowGrantStep = kInitialWindow / 2;
// The writer sends at most this much per system call (control frames first).
constexpr size_t kWriteBatchBytes = 512 * 1024;
// At most this many frames per sendmsg (well under IOV_MAX).
constexpr size_t kMaxBatchFrames = 256;
constexpr size_t kReadBufferBytes = 512 * 1024;
// How long CloseWrite waits for room in a full queue before resetting the stream instead.
constexpr std::chrono::seconds kCloseQueueTimeout{10};

}  // namespace

namespace detail {

enum class StreamPhase {
  kOpening,    // client: OpenTcp sent, waiting for Opened / OpenFailed
  kAccepting,  // server: OpenTcp received, waiting for the handler's Accept / Refuse
  kOpen,
  kFailed,  // reset, refused, or the tunnel died
};

// Everything about one stream that the reader thread and the stream's users share.
struct StreamState {
  explicit StreamState(uint32_t stream_id, StreamPhase initial) : id(stream_id), phase(initial) {}

  const uint32_t id;
  std::mutex mutex;
  std::condition_variable changed;
  // All below guarded by mutex.
  StreamPhase phase;
  int error = 0;
  std::string failure_reason;
  std::deque<std::vector<uint8_t>> received;
  size_t read_offset = 0;                     // into received.front()
  size_t receive_allowance = kInitialWindow;  // bytes the peer may still send
  size_t consumed_since_grant = 0;
  size_t send_credit = kInitialWindow;
  bool peer_closed_write = false;
  bool local_closed_write = false;

  bool Finished() const {
    return phase == StreamPhase::kFailed || (peer_closed_write && local_closed_write);
  }

  // Marks the stream failed (first failure wins) and wakes its waiters. Locks `mutex`.
  void Fail(int error_code, const std::string& reason) {
    {
      std::lock_guard lock(mutex);
      if (phase == StreamPhase::kFailed) return;
      phase = StreamPhase::kFailed;
      error = error_code;
      failure_reason = reason;
    }
    changed.notify_all();
  }
};

// The shared core of a connection: the socket, the outgoing queues, the stream table, pending
// DNS queries. Owned by the TunnelConnection and by every stream handle, so a handle that
// outlives its connection still fails cleanly.
class TunnelLink : public std::enable_shared_from_this<TunnelLink> {
 public:
  TunnelLink(UniqueFd socket, Role role, TunnelHandlers handlers, ConnectionOptions options)
      : socket_(std::move(socket)),
        role_(role),
        handlers_(std::move(handlers)),
        options_(std::move(options)),
        next_stream_id_(role == Role::kClient ? 1 : 2),
        last_received_(Clock::now().time_since_epoch().count()) {}

  const ConnectionOptions& options() const { return options_; }

  // Queues a control frame: never waits. False when the link is dead.
  bool EnqueueControl(const Frame& frame) {
    std::vector<uint8_t> bytes = EncodeFrame(frame);
    {
      std::lock_guard lock(queue_mutex_);
      if (dead_.load()) return false;
      control_queue_.push_back(std::move(bytes));
    }
    queue_changed_.notify_all();
    return true;
  }

  // Queues an encoded data-class frame, waiting for room until `deadline`. Returns 0,
  // ETIMEDOUT or ECONNRESET.
  int EnqueueData(std::vector<uint8_t> bytes, Deadline deadline) {
    std::unique_lock lock(queue_mutex_);
    const bool room = room_available_.wait_until(lock, deadline, [&] {
      return dead_.load() || queued_data_bytes_ == 0 ||
             queued_data_bytes_ + bytes.size() <= options_.max_queued_bytes;
    });
    if (dead_.load()) return ECONNRESET;
    if (!room) return ETIMEDOUT;
    queued_data_bytes_ += bytes.size();
    data_queue_.push_back(std::move(bytes));
    lock.unlock();
    queue_changed_.notify_all();
    return 0;
  }

  int EnqueueDataFrame(const Frame& frame, Deadline deadline) {
    std::vector<uint8_t> bytes = EncodeFrame(frame);
    if (bytes.empty()) return EMSGSIZE;
    return EnqueueData(std::move(bytes), deadline);
  }

  std::shared_ptr<StreamState> NewLocalStream() {
    std::lock_guard lock(streams_mutex_);
    const uint32_t id = next_stream_id_;
    next_stream_id_ += 2;
    auto state = std::make_shared<StreamState>(id, StreamPhase::kOpening);
    if (!dead_.load()) streams_.emplace(id, state);
    return state;
  }

  void Forget(uint32_t id) {
    std::lock_guard lock(streams_mutex_);
    streams_.erase(id);
  }

  size_t StreamCount() const {
    std::lock_guard lock(streams_mutex_);
    return streams_.size();
  }

  // Sends a query and waits for its answer until `deadline`.
  DnsResult QueryDns(std::span<const uint8_t> message, Deadline deadline) {
    std::future<DnsResult> answer;
    uint32_t id = 0;
    {
      std::lock_guard lock(dns_mutex_);
      if (dead_.load()) return {ECONNRESET, {}};
      id = next_query_id_++;
      answer = pending_dns_[id].get_future();
    }
    const int error = EnqueueDataFrame(
        {id, DnsQuery{std::vector<uint8_t>(message.begin(), message.end())}}, deadline);
    if (error == 0 && answer.wait_until(deadline) == std::future_status::ready) return answer.get();
    std::lock_guard lock(dns_mutex_);
    pending_dns_.erase(id);
    return {error != 0 ? error : ETIMEDOUT, {}};
  }

  // Makes the link dead for good and fails everything waiting on it. Idempotent, any thread.
  void Break(const std::string& reason) {
    {
      std::lock_guard lock(state_mutex_);
      if (dead_.load()) return;
      failure_reason_ = reason;
      dead_.store(true);
    }
    state_changed_.notify_all();
    spdlog::info("{}: connection closed: {}", options_.name, reason);
    ::shutdown(socket_.Get(), SHUT_RDWR);
    { std::lock_guard lock(queue_mutex_); }
    queue_changed_.notify_all();
    room_available_.notify_all();
    FailAllStreams("tunnel lost: " + reason);
    FailAllQueries();
  }

  bool Dead() const { return dead_.load(); }
  std::string FailureReason() const {
    std::lock_guard lock(state_mutex_);
    return failure_reason_;
  }
  bool WaitUntilDead(Deadline deadline) const {
    std::unique_lock lock(state_mutex_);
    return state_changed_.wait_until(lock, deadline, [&] { return dead_.load(); });
  }

  void ReadLoop();
  void WriteLoop();

 private:
  void FailAllStreams(const std::string& reason) {
    std::map<uint32_t, std::shared_ptr<StreamState>> failed;
    {
      std::lock_guard lock(streams_mutex_);
      failed.swap(streams_);
    }
    for (auto& [id, state] : failed) state->Fail(ECONNRESET, reason);
  }

  void FailAllQueries() {
    std::map<uint32_t, std::promise<DnsResult>> failed;
    {
      std::lock_guard lock(dns_mutex_);
      failed.swap(pending_dns_);
    }
    for (auto& [id, promise] : failed) promise.set_value({ECONNRESET, {}});
  }

  std::shared_ptr<StreamState> Find(uint32_t id) {
    std::lock_guard lock(streams_mutex_);
    const auto found = streams_.find(id);
    return found == streams_.end() ? nullptr : found->second;
  }

  // Handles one frame from the peer; returns "" or the protocol violation that kills the link.
  std::string Dispatch(Frame& frame);
  std::string OnData(uint32_t id, Data& data);
  std::string OnOpenTcp(uint32_t id, const OpenTcp& request);
  void OnClose(uint32_t id, CloseMode mode);
  void OnOpenAnswer(uint32_t id, int error, const std::string& reason);
  void OnWindow(uint32_t id, uint32_t credit);
  void OnDnsAnswer(uint32_t id, DnsAnswer& answer);
  // Decodes and dispatches every whole frame in buffer[begin, end); false when the link broke.
  bool DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end);
  // Sends the frames with as few system calls as the kernel allows.
  bool SendBatch(const std::vector<std::vector<uint8_t>>& batch);
  // Moves every control frame and up to a batch of data frames out of the queues.
  std::vector<std::vector<uint8_t>> TakeBatch(std::unique_lock<std::mutex>& lock);

  UniqueFd socket_;
  const Role role_;
  const TunnelHandlers handlers_;
  const ConnectionOptions options_;
  std::atomic<bool> dead_{false};

  mutable std::mutex state_mutex_;
  mutable std::condition_variable state_changed_;
  std::string failure_reason_;  // guarded by state_mutex_

  std::mutex queue_mutex_;
  std::condition_variable queue_changed_;           // writer waits: frames queued or dead
  std::condition_variable room_available_;          // EnqueueData waits: data queue has room
  std::deque<std::vector<uint8_t>> control_queue_;  // guarded by queue_mutex_
  std::deque<std::vector<uint8_t>> data_queue_;     // guarded by queue_mutex_
  size_t queued_data_bytes_ = 0;                    // guarded by queue_mutex_

  mutable std::mutex streams_mutex_;
  std::map<uint32_t, std::shared_ptr<StreamState>> streams_;  // guarded by streams_mutex_
  uint32_t next_stream_id_;                                   // guarded by streams_mutex_

  std::mutex dns_mutex_;
  std::map<uint32_t, std::promise<DnsResult>> pending_dns_;  // guarded by dns_mutex_
  uint32_t next_query_id_ = 1;                               // guarded by dns_mutex_

  std::atomic<Clock::rep> last_received_;  // steady clock ticks of the last byte from the peer
  uint64_t next_ping_nonce_ = 1;           // writer thread only
};

std::string TunnelLink::OnData(uint32_t id, Data& data) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return "";  // a stream we already reset; its last bytes are dropped
  {
    std::lock_guard lock(state->mutex);
    if (state->phase != StreamPhase::kOpen || state->peer_closed_write) {
      return "data on stream " + std::to_string(id) + " that is not open for it";
    }
    if (data.bytes.size() > state->receive_allowance) {
      return "peer overran the credit window of stream " + std::to_string(id);
    }
    state->receive_allowance -= data.bytes.size();
    if (!data.bytes.empty()) state->received.push_back(std::move(data.bytes));
  }
  state->changed.notify_all();
  return "";
}

std::string TunnelLink::OnOpenTcp(uint32_t id, const OpenTcp& request) {
  const bool id_from_peer = (id % 2 == 1) == (role_ == Role::kServer);
  if (!id_from_peer || id == 0) return "OpenTcp with stream id " + std::to_string(id);
  auto state = std::make_shared<StreamState>(id, StreamPhase::kAccepting);
  {
    std::lock_guard lock(streams_mutex_);
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
  {
    std::lock_guard lock(state->mutex);
    state->peer_closed_write = true;
    finished = state->Finished();
  }
  state->changed.notify_all();
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
  {
    std::lock_guard lock(state->mutex);
    if (state->phase == StreamPhase::kOpening) state->phase = StreamPhase::kOpen;
  }
  state->changed.notify_all();
}

void TunnelLink::OnWindow(uint32_t id, uint32_t credit) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  {
    std::lock_guard lock(state->mutex);
    state->send_credit += credit;
  }
  state->changed.notify_all();
}

void TunnelLink::OnDnsAnswer(uint32_t id, DnsAnswer& answer) {
  std::promise<DnsResult> promise;
  {
    std::lock_guard lock(dns_mutex_);
    const auto found = pending_dns_.find(id);
    if (found == pending_dns_.end()) return;  // timed out already
    promise = std::move(found->second);
    pending_dns_.erase(found);
  }
  promise.set_value({answer.error_code, std::move(answer.message)});
}

std::string TunnelLink::Dispatch(Frame& frame) {
  const uint32_t id = frame.id;
  switch (frame.type()) {
    case FrameType::kData:
      return OnData(id, std::get<Data>(frame.body));
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
      EnqueueControl({0, Pong{std::get<Ping>(frame.body).nonce}});
      return "";
    case FrameType::kPong:
      return "";
    case FrameType::kSubnetsChanged:
      if (handlers_.on_subnets_changed) {
        handlers_.on_subnets_changed(std::move(std::get<SubnetsChanged>(frame.body).subnets));
      }
      return "";
    case FrameType::kHello:
    case FrameType::kWelcome:
    case FrameType::kRefused:
      break;
  }
  return std::string(FrameTypeName(frame.type())) + " frame after the handshake";
}

bool TunnelLink::DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end) {
  while (begin < end) {
    DecodeResult decoded = DecodeFrame(std::span(buffer).subspan(begin, end - begin));
    if (decoded.status == DecodeStatus::kNeedMore) return true;
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
  while (!dead_.load()) {
    const Deadline silent_until =
        Clock::time_point(Clock::duration(last_received_.load())) + options_.dead_after;
    pollfd waiter{socket_.Get(), POLLIN, 0};
    const int ready = ::poll(&waiter, 1, MillisecondsUntil(silent_until));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) {
      if (Clock::now() < silent_until) continue;
      Break("no frame from peer for " + std::to_string(options_.dead_after.count()) + " ms");
      break;
    }
    const ssize_t got =
        ::recv(socket_.Get(), buffer.data() + end, buffer.size() - end, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got <= 0) {
      Break(got == 0 ? "peer closed the connection" : std::string(std::strerror(errno)));
      break;
    }
    last_received_.store(Clock::now().time_since_epoch().count());
    end += static_cast<size_t>(got);
    if (!DispatchBuffered(buffer, begin, end)) break;
    // Keep the partial frame at the front; grow only for a frame larger than the buffer.
    std::memmove(buffer.data(), buffer.data() + begin, end - begin);
    end -= begin;
    begin = 0;
    if (end == buffer.size()) buffer.resize(std::min(buffer.size() * 2, kMaxFrameSize));
  }
  if (handlers_.on_closed) handlers_.on_closed(FailureReason());
}

std::vector<std::vector<uint8_t>> TunnelLink::TakeBatch(std::unique_lock<std::mutex>& lock) {
  std::vector<std::vector<uint8_t>> batch;
  size_t batch_bytes = 0;
  while (!control_queue_.empty()) {
    batch.push_back(std::move(control_queue_.front()));
    control_queue_.pop_front();
  }
  const size_t before = queued_data_bytes_;
  while (!data_queue_.empty() && batch_bytes < kWriteBatchBytes && batch.size() < kMaxBatchFrames) {
    batch_bytes += data_queue_.front().size();
    queued_data_bytes_ -= data_queue_.front().size();
    batch.push_back(std::move(data_queue_.front()));
    data_queue_.pop_front();
  }
  if (queued_data_bytes_ != before) {
    lock.unlock();
    room_available_.notify_all();
    lock.lock();
  }
  return batch;
}

bool TunnelLink::SendBatch(const std::vector<std::vector<uint8_t>>& batch) {
  std::vector<iovec> pieces;
  pieces.reserve(batch.size());
  for (const auto& frame : batch) {
    pieces.push_back({const_cast<uint8_t*>(frame.data()), frame.size()});
  }
  size_t first = 0;
  while (first < pieces.size()) {
    msghdr message{};
    message.msg_iov = pieces.data() + first;
    message.msg_iovlen = std::min(pieces.size() - first, kMaxBatchFrames);
    ssize_t sent = ::sendmsg(socket_.Get(), &message, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    // Skip what went out; a partly sent frame continues from where it stopped.
    while (first < pieces.size() && static_cast<size_t>(sent) >= pieces[first].iov_len) {
      sent -= static_cast<ssize_t>(pieces[first].iov_len);
      ++first;
    }
    if (first < pieces.size()) {
      pieces[first].iov_base = static_cast<uint8_t*>(pieces[first].iov_base) + sent;
      pieces[first].iov_len -= static_cast<size_t>(sent);
    }
  }
  return true;
}

void TunnelLink::WriteLoop() {
  Deadline next_ping = Clock::now() + options_.keepalive_interval;
  while (true) {
    std::vector<std::vector<uint8_t>> batch;
    {
      std::unique_lock lock(queue_mutex_);
      queue_changed_.wait_until(lock, next_ping, [&] {
        return dead_.load() || !control_queue_.empty() || !data_queue_.empty();
      });
      if (dead_.load()) return;
      if (Clock::now() >= next_ping) {
        batch.push_back(EncodeFrame({0, Ping{next_ping_nonce_++}}));
        next_ping = Clock::now() + options_.keepalive_interval;
      }
      for (auto& frame : TakeBatch(lock)) batch.push_back(std::move(frame));
    }
    if (!batch.empty() && !SendBatch(batch)) {
      Break(std::string("send failed: ") + std::strerror(errno));
      return;
    }
  }
}

}  // namespace detail

using detail::StreamPhase;
using detail::StreamState;
using detail::TunnelLink;

TunnelStream::TunnelStream(std::shared_ptr<StreamState> state, std::shared_ptr<TunnelLink> link)
    : state_(std::move(state)), link_(std::move(link)) {}

TunnelStream::~TunnelStream() {
  StreamPhase phase;
  bool finished = false;
  {
    std::lock_guard lock(state_->mutex);
    phase = state_->phase;
    finished = state_->Finished();
  }
  if (phase == StreamPhase::kAccepting) {
    Refuse(ECONNREFUSED, "stream not accepted");
  } else if (!finished) {
    Reset();
  }
  link_->Forget(state_->id);
}

uint32_t TunnelStream::id() const { return state_->id; }

IoResult TunnelStream::Read(std::span<uint8_t> into, Deadline deadline) {
  IoResult result;
  uint32_t grant = 0;
  {
    std::unique_lock lock(state_->mutex);
    const bool ready = state_->changed.wait_until(lock, deadline, [&] {
      return !state_->received.empty() || state_->peer_closed_write ||
             state_->phase == StreamPhase::kFailed;
    });
    if (!ready) return {0, ETIMEDOUT};
    if (state_->received.empty()) {
      if (state_->phase == StreamPhase::kFailed) return {0, state_->error};
      return {};  // end of stream
    }
    while (result.bytes < into.size() && !state_->received.empty()) {
      const std::vector<uint8_t>& chunk = state_->received.front();
      const size_t count = std::min(into.size() - result.bytes, chunk.size() - state_->read_offset);
      std::memcpy(into.data() + result.bytes, chunk.data() + state_->read_offset, count);
      result.bytes += count;
      state_->read_offset += count;
      if (state_->read_offset == chunk.size()) {
        state_->received.pop_front();
        state_->read_offset = 0;
      }
    }
    state_->consumed_since_grant += result.bytes;
    if (state_->consumed_since_grant >= kWindowGrantStep && state_->phase == StreamPhase::kOpen &&
        !state_->peer_closed_write) {
      grant = static_cast<uint32_t>(state_->consumed_since_grant);
      state_->receive_allowance += grant;
      state_->consumed_since_grant = 0;
    }
  }
  if (grant > 0) link_->EnqueueControl({state_->id, Window{grant}});
  return result;
}

IoResult TunnelStream::Write(std::span<const uint8_t> bytes, Deadline deadline) {
  IoResult result;
  while (result.bytes < bytes.size()) {
    size_t chunk = 0;
    {
      std::unique_lock lock(state_->mutex);
      const bool ready = state_->changed.wait_until(lock, deadline, [&] {
        return state_->send_credit > 0 || state_->phase == StreamPhase::kFailed ||
               state_->local_closed_write;
      });
      if (state_->phase == StreamPhase::kFailed) {
        result.error = state_->error;
        return result;
      }
      if (state_->local_closed_write) {
        result.error = EPIPE;
        return result;
      }
      if (!ready) {
        result.error = ETIMEDOUT;
        return result;
      }
      chunk = std::min({bytes.size() - result.bytes, state_->send_credit, kMaxDataChunk});
      state_->send_credit -= chunk;
    }
    std::vector<uint8_t> frame;
    frame.reserve(kFrameHeaderSize + chunk);
    AppendDataFrame(state_->id, bytes.subspan(result.bytes, chunk), frame);
    if (const int error = link_->EnqueueData(std::move(frame), deadline); error != 0) {
      std::lock_guard lock(state_->mutex);
      state_->send_credit += chunk;  // not sent, so not spent
      result.error = error;
      return result;
    }
    result.bytes += chunk;
  }
  return result;
}

void TunnelStream::CloseWrite() {
  bool finished = false;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kOpen || state_->local_closed_write) return;
    state_->local_closed_write = true;
    finished = state_->Finished();
  }
  state_->changed.notify_all();
  // Behind this stream's data in the queue, so the peer reads everything first.
  const std::vector<uint8_t> frame = EncodeFrame({state_->id, Close{CloseMode::kHalfClose}});
  if (link_->EnqueueData(frame, Clock::now() + kCloseQueueTimeout) != 0) Reset();
  if (finished) link_->Forget(state_->id);
}

void TunnelStream::Reset() {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->Finished()) return;
  }
  state_->Fail(ECONNRESET, "stream reset locally");
  link_->EnqueueControl({state_->id, Close{CloseMode::kReset}});
  link_->Forget(state_->id);
}

void TunnelStream::Accept() {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
    state_->phase = StreamPhase::kOpen;
  }
  state_->changed.notify_all();
  link_->EnqueueControl({state_->id, Opened{}});
}

void TunnelStream::Refuse(int error_code, const std::string& reason) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
  }
  state_->Fail(error_code, reason);
  link_->EnqueueControl({state_->id, OpenFailed{error_code, reason}});
  link_->Forget(state_->id);
}

bool TunnelStream::Failed() const {
  std::lock_guard lock(state_->mutex);
  return state_->phase == StreamPhase::kFailed;
}

std::string TunnelStream::FailureReason() const {
  std::lock_guard lock(state_->mutex);
  return state_->failure_reason;
}

TunnelConnection::TunnelConnection(std::shared_ptr<TunnelLink> link) : link_(std::move(link)) {}

std::unique_ptr<TunnelConnection> TunnelConnection::Start(UniqueFd socket, Role role,
                                                          TunnelHandlers handlers,
                                                          ConnectionOptions options) {
  auto link = std::make_shared<TunnelLink>(std::move(socket), role, std::move(handlers),
                                           std::move(options));
  std::unique_ptr<TunnelConnection> connection(new TunnelConnection(link));
  connection->reader_ = std::thread([link] { link->ReadLoop(); });
  connection->writer_ = std::thread([link] { link->WriteLoop(); });
  return connection;
}

TunnelConnection::~TunnelConnection() {
  Close("connection closed locally");
  reader_.join();
  writer_.join();
}

OpenResult TunnelConnection::OpenTcp(const std::string& host, uint16_t port, Deadline deadline) {
  std::shared_ptr<StreamState> state = link_->NewLocalStream();
  std::unique_ptr<TunnelStream> stream(new TunnelStream(state, link_));
  if (!link_->EnqueueControl({state->id, tunnel::OpenTcp{host, port}})) {
    return {nullptr, ECONNRESET, "tunnel lost: " + link_->FailureReason()};
  }
  std::unique_lock lock(state->mutex);
  const bool answered = state->changed.wait_until(
      lock, deadline, [&] { return state->phase != StreamPhase::kOpening; });
  if (!answered) {
    lock.unlock();
    return {nullptr, ETIMEDOUT, "no answer from the traffic-manager in time"};  // resets it
  }
  if (state->phase == StreamPhase::kFailed) {
    OpenResult failed{nullptr, state->error, state->failure_reason};
    lock.unlock();
    return failed;
  }
  lock.unlock();
  return {std::move(stream), 0, ""};
}

bool TunnelConnection::SendUdpDatagram(uint32_t flow_id, UdpDatagram datagram, Deadline deadline) {
  return link_->EnqueueDataFrame({flow_id, std::move(datagram)}, deadline) == 0;
}

bool TunnelConnection::SendUdpReply(uint32_t flow_id, UdpReply reply, Deadline deadline) {
  return link_->EnqueueDataFrame({flow_id, std::move(reply)}, deadline) == 0;
}

DnsResult TunnelConnection::QueryDns(std::span<const uint8_t> message, Deadline deadline) {
  return link_->QueryDns(message, deadline);
}

bool TunnelConnection::SendDnsAnswer(uint32_t query_id, DnsAnswer answer, Deadline deadline) {
  return link_->EnqueueDataFrame({query_id, std::move(answer)}, deadline) == 0;
}

bool TunnelConnection::SendSubnetsChanged(std::vector<std::string> subnets) {
  return link_->EnqueueControl({0, SubnetsChanged{std::move(subnets)}});
}

void TunnelConnection::Close(const std::string& reason) { link_->Break(reason); }
bool TunnelConnection::Dead() const { return link_->Dead(); }
bool TunnelConnection::WaitUntilDead(Deadline deadline) const {
  return link_->WaitUntilDead(deadline);
}
std::string TunnelConnection::FailureReason() const { return link_->FailureReason(); }
size_t TunnelConnection::OpenStreamCount() const { return link_->StreamCount(); }

}  // namespace tp::tunnel
