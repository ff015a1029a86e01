#include "tunnel/tunnel_link.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <algorithm>
#include <utility>

#include "sync/mutex.h"

namespace tp::tunnel::detail {

TunnelLink::TunnelLink(UniqueFd socket, Role role, TunnelHandlers handlers,
                       ConnectionOptions options)
    : socket_(std::move(socket)),
      role_(role),
      handlers_(std::move(handlers)),
      options_(std::move(options)),
      next_stream_id_(role == Role::kClient ? 1 : 2),
      last_received_(Clock::now().time_since_epoch().count()) {
  // Every send and receive waits in poll, never in the call: splice(2) honours only this.
  ::fcntl(socket_.Get(), F_SETFL, ::fcntl(socket_.Get(), F_GETFL) | O_NONBLOCK);
}

std::shared_ptr<StreamState> TunnelLink::NewLocalStream() {
  MutexLock lock(streams_mutex_);
  const uint32_t id = next_stream_id_;
  next_stream_id_ += 2;
  auto state = std::make_shared<StreamState>(id, StreamPhase::kOpening);
  if (!dead_.load()) streams_.emplace(id, state);
  return state;
}

void TunnelLink::Forget(uint32_t id) {
  MutexLock lock(streams_mutex_);
  streams_.erase(id);
}

size_t TunnelLink::StreamCount() const {
  MutexLock lock(streams_mutex_);
  return streams_.size();
}

DnsResult TunnelLink::QueryDns(std::span<const uint8_t> message, Deadline deadline) {
  std::future<DnsResult> answer;
  uint32_t id = 0;
  {
    MutexLock lock(dns_mutex_);
    if (dead_.load()) return {ECONNRESET, {}};
    id = next_query_id_++;
    answer = pending_dns_[id].get_future();
  }
  const int error =
      SendDataFrame({id, DnsQuery{std::vector<uint8_t>(message.begin(), message.end())}}, deadline);
  if (error == 0 && answer.wait_until(deadline) == std::future_status::ready) return answer.get();
  MutexLock lock(dns_mutex_);
  pending_dns_.erase(id);
  return {error != 0 ? error : ETIMEDOUT, {}};
}

CallResult TunnelLink::Call(std::string body, Deadline deadline) {
  std::future<CallResult> answer;
  uint32_t id = 0;
  {
    MutexLock lock(calls_mutex_);
    if (dead_.load()) return {ECONNRESET, {}};
    id = next_request_id_++;
    answer = pending_calls_[id].get_future();
  }
  const int error = SendDataFrame({id, Request{std::move(body)}}, deadline);
  if (error == 0 && answer.wait_until(deadline) == std::future_status::ready) return answer.get();
  MutexLock lock(calls_mutex_);
  pending_calls_.erase(id);
  return {error != 0 ? error : ETIMEDOUT, {}};
}

size_t TunnelLink::AdjustWindowLocked(StreamState& state, size_t consumed, Clock::time_point now) {
  size_t grant = consumed;
  if (state.shrink_pending > 0) {
    // Shrinking: part of what was read is not granted back, and leaves the window.
    const size_t kept = std::min({grant, state.shrink_pending, state.window_growth});
    grant -= kept;
    state.shrink_pending -= kept;
    state.receive_window -= kept;
    state.window_growth -= kept;
    ReleaseWindowGrowth(kept);
    if (state.window_growth == 0) state.shrink_pending = 0;
  }
  state.consumed_in_epoch += consumed;
  if (state.consumed_in_epoch < state.receive_window) return grant;
  const Clock::duration took = now - state.epoch_start;
  state.epoch_start = now;
  state.consumed_in_epoch = 0;
  // A reader that never found the stream empty over a whole window is the limit itself: the
  // window's part above kInitialWindow only holds bytes in memory (and pushes a relay's payloads
  // out of its splice pipe into the ring: copies), so it halves. (Round trips measured behind
  // those queued bytes look long: they would make it grow.)
  if (!std::exchange(state.reader_starved, false)) {
    if (state.shrink_pending == 0) state.shrink_pending = (state.window_growth + 1) / 2;
    return grant;
  }
  const Clock::duration round_trip = MinRoundTrip();
  if (round_trip < kMinGrowthRoundTrip || took >= 2 * round_trip || state.shrink_pending > 0 ||
      state.receive_window >= options_.max_stream_window) {
    return grant;
  }
  const size_t extra = ReserveWindowGrowth(
      std::min(state.receive_window, options_.max_stream_window - state.receive_window));
  state.receive_window += extra;
  state.window_growth += extra;
  return grant + extra;
}

size_t TunnelLink::ReserveWindowGrowth(size_t wanted) {
  size_t in_use = window_growth_in_use_.load();
  while (true) {
    const size_t room =
        in_use < options_.max_window_growth ? options_.max_window_growth - in_use : 0;
    const size_t taken = std::min(wanted, room);
    if (taken == 0) return 0;
    if (window_growth_in_use_.compare_exchange_weak(in_use, in_use + taken)) return taken;
  }
}

void TunnelLink::ReleaseWindowGrowth(size_t bytes) {
  if (bytes > 0) window_growth_in_use_.fetch_sub(bytes);
}

void TunnelLink::NoteRoundTrip(Clock::duration round_trip) {
  if (round_trip <= Clock::duration::zero() || round_trip > kMaxRoundTrip) return;
  const Clock::rep ticks = round_trip.count();
  Clock::rep shortest = min_round_trip_.load();
  while ((shortest == 0 || ticks < shortest) &&
         !min_round_trip_.compare_exchange_weak(shortest, ticks)) {
  }
}

void TunnelLink::Break(const std::string& reason) {
  {
    MutexLock lock(state_mutex_);
    if (dead_.load()) return;
    failure_reason_ = reason;
    dead_.store(true);
  }
  state_changed_.NotifyAll();
  spdlog::info("{}: connection closed: {}", options_.name, reason);
  ::shutdown(socket_.Get(), SHUT_RDWR);
  { MutexLock lock(queue_mutex_); }
  writer_wakeup_.NotifyAll();
  senders_wakeup_.NotifyAll();
  FailAllStreams("tunnel lost: " + reason);
  FailAllQueries();
  FailAllCalls();
}

std::string TunnelLink::FailureReason() const {
  MutexLock lock(state_mutex_);
  return failure_reason_;
}

bool TunnelLink::WaitUntilDead(Deadline deadline) const {
  MutexLock lock(state_mutex_);
  return state_changed_.WaitUntil(state_mutex_, deadline, [&] { return dead_.load(); });
}

void TunnelLink::FailAllStreams(const std::string& reason) {
  std::map<uint32_t, std::shared_ptr<StreamState>> failed;
  {
    MutexLock lock(streams_mutex_);
    failed.swap(streams_);
  }
  for (auto& [id, state] : failed) state->Fail(ECONNRESET, reason);
}

void TunnelLink::FailAllQueries() {
  std::map<uint32_t, std::promise<DnsResult>> failed;
  {
    MutexLock lock(dns_mutex_);
    failed.swap(pending_dns_);
  }
  for (auto& [id, promise] : failed) promise.set_value({ECONNRESET, {}});
}

void TunnelLink::FailAllCalls() {
  std::map<uint32_t, std::promise<CallResult>> failed;
  {
    MutexLock lock(calls_mutex_);
    failed.swap(pending_calls_);
  }
  for (auto& [id, promise] : failed) promise.set_value({ECONNRESET, {}});
}

std::shared_ptr<StreamState> TunnelLink::Find(uint32_t id) {
  MutexLock lock(streams_mutex_);
  const auto found = streams_.find(id);
  return found == streams_.end() ? nullptr : found->second;
}

}  // namespace tp::tunnel::detail
