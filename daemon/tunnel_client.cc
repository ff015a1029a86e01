#include "daemon/tunnel_client.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <nlohmann/json.hpp>

#include "net/host_port.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

tunnel::CallResult CallManager(const std::shared_ptr<tunnel::TunnelConnection>& tunnel,
                               std::string body, tunnel::Deadline deadline) {
  if (!tunnel || tunnel->Dead()) {
    return {ENOTCONN, nlohmann::json{{"error", kNotConnectedError}}.dump()};
  }
  return tunnel->Call(std::move(body), deadline);
}

std::optional<std::vector<uint8_t>> TunnelClient::CurrentTunnelResolver::Resolve(
    std::span<const uint8_t> query, std::chrono::milliseconds timeout) {
  const std::shared_ptr<tunnel::TunnelConnection> connection = client_.Current();
  if (!connection) return std::nullopt;
  tunnel::DnsResult result = connection->QueryDns(query, Clock::now() + timeout);
  if (result.error != 0 || result.message.empty()) return std::nullopt;
  return std::move(result.message);
}

TunnelClient::TunnelClient(TunnelClientOptions options)
    : options_(std::move(options)),
      manager_address_(HostPortText({options_.manager_host, options_.manager_port})) {
  state_->status.manager = manager_address_;
  thread_ = std::thread([this] { Run(); });
}

TunnelClient::~TunnelClient() {
  std::shared_ptr<tunnel::TunnelConnection> current;
  {
    MutexLock lock(state_->mutex);
    state_->stopping = true;
    current = std::move(state_->current);
  }
  state_->changed.NotifyAll();
  if (current) current->Close("the daemon is stopping");
  thread_.join();
}

std::shared_ptr<tunnel::TunnelConnection> TunnelClient::Current() const {
  MutexLock lock(state_->mutex);
  return state_->current;
}

TunnelClientStatus TunnelClient::Status() const {
  MutexLock lock(state_->mutex);
  return state_->status;
}

std::optional<tunnel::Welcome> TunnelClient::WaitUntilConnected(tunnel::Deadline deadline) const {
  MutexLock lock(state_->mutex);
  state_->changed.WaitUntil(state_->mutex, deadline, [this]() REQUIRES(state_->mutex) {
    return state_->status.connected || state_->stopping;
  });
  if (!state_->status.connected) return std::nullopt;
  return state_->status.welcome;
}

std::optional<std::vector<std::string>> TunnelClient::WaitForSubnets(
    const std::optional<std::vector<std::string>>& known, tunnel::Deadline deadline) const {
  MutexLock lock(state_->mutex);
  const auto current = [this]() REQUIRES(state_->mutex) -> std::optional<std::vector<std::string>> {
    if (!state_->status.welcome) return std::nullopt;
    return state_->status.welcome->subnets;
  };
  state_->changed.WaitUntil(state_->mutex, deadline, [&]() REQUIRES(state_->mutex) {
    return state_->stopping || current() != known;
  });
  return current();
}

void TunnelClient::SetUdpReplyHandler(UdpReplyHandler handler) {
  MutexLock lock(state_->udp_reply_mutex);
  state_->udp_reply_handler = std::move(handler);
}

void TunnelClient::SetOpenTcpHandler(OpenTcpHandler handler) {
  MutexLock lock(state_->open_tcp_mutex);
  state_->open_tcp_handler = std::move(handler);
}

tunnel::CallResult TunnelClient::Call(std::string body, tunnel::Deadline deadline) const {
  return CallManager(Current(), std::move(body), deadline);
}

void TunnelClient::Run() {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  while (true) {
    bool refused = false;
    std::shared_ptr<bool> closed = std::make_shared<bool>(false);
    std::shared_ptr<tunnel::TunnelConnection> connection = Connect(closed, refused);
    if (connection) {
      WatchUntilDead(connection, *closed);
      connection.reset();  // joins its threads outside any lock
      backoff = options_.initial_backoff;
    }
    const auto pause = refused ? options_.refused_backoff : backoff;
    if (!SleepUnlessStopping(pause)) return;
    if (!connection && !refused) backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

std::shared_ptr<tunnel::TunnelConnection> TunnelClient::Connect(std::shared_ptr<bool> closed,
                                                                bool& refused) {
  {
    MutexLock lock(state_->mutex);
    ++state_->status.attempt_count;
  }
  DialResult dial =
      DialTcp(options_.manager_host, options_.manager_port, Clock::now() + options_.dial_timeout);
  if (!dial.socket.Valid()) {
    SetError("cannot reach the traffic-manager: " + dial.message);
    return nullptr;
  }
  const tunnel::Hello hello{tunnel::kProtocolVersion, options_.client_name, options_.secret};
  tunnel::ClientHandshakeResult handshake =
      tunnel::ClientHandshake(dial.socket.Get(), hello, Clock::now() + options_.handshake_timeout);
  if (!handshake.welcome) {
    refused = handshake.refused;
    SetError(refused ? handshake.error : "handshake failed: " + handshake.error);
    return nullptr;
  }
  std::weak_ptr<State> weak_state = state_;
  tunnel::TunnelHandlers handlers;
  handlers.on_subnets_changed = [weak_state](std::vector<std::string> subnets) {
    const std::shared_ptr<State> state = weak_state.lock();
    if (!state) return;
    {
      MutexLock lock(state->mutex);
      if (state->status.welcome) state->status.welcome->subnets = std::move(subnets);
    }
    state->changed.NotifyAll();
  };
  handlers.on_udp_reply = [weak_state](uint32_t flow_id, tunnel::UdpReply reply) {
    const std::shared_ptr<State> state = weak_state.lock();
    if (!state) return;
    MutexLock lock(state->udp_reply_mutex);
    if (state->udp_reply_handler) state->udp_reply_handler(flow_id, reply);
  };
  handlers.on_open_tcp = [weak_state](std::unique_ptr<tunnel::TunnelStream> stream,
                                      const tunnel::OpenTcp& request) {
    const std::shared_ptr<State> state = weak_state.lock();
    if (!state) return stream->Refuse(ECONNREFUSED, "the daemon is stopping");
    MutexLock lock(state->open_tcp_mutex);
    if (!state->open_tcp_handler) {
      return stream->Refuse(ECONNREFUSED, "the daemon takes no streams for " + request.host);
    }
    state->open_tcp_handler(std::move(stream), request);
  };
  handlers.on_closed = [weak_state, closed](const std::string&) {
    const std::shared_ptr<State> state = weak_state.lock();
    if (!state) return;
    {
      MutexLock lock(state->mutex);
      *closed = true;
    }
    state->changed.NotifyAll();
  };
  std::shared_ptr<tunnel::TunnelConnection> connection = tunnel::TunnelConnection::Start(
      std::move(dial.socket), tunnel::Role::kClient, std::move(handlers), options_.connection);
  Publish(connection, std::move(*handshake.welcome));
  return connection;
}

void TunnelClient::Publish(std::shared_ptr<tunnel::TunnelConnection> connection,
                           tunnel::Welcome welcome) {
  bool reconnected = false;  // for the log line
  {
    MutexLock lock(state_->mutex);
    if (state_->stopping) {
      connection->Close("the daemon is stopping");
      return;
    }
    TunnelClientStatus& status = state_->status;
    reconnected = status.welcome.has_value();
    if (reconnected) ++status.reconnect_count;
    status.connected = true;
    status.last_error.clear();
    status.welcome = std::move(welcome);
    state_->current = std::move(connection);
  }
  state_->changed.NotifyAll();
  spdlog::info("tunnel to the traffic-manager at {} is up{}", manager_address_,
               reconnected ? " again" : "");
}

void TunnelClient::WatchUntilDead(const std::shared_ptr<tunnel::TunnelConnection>& connection,
                                  const bool& closed) {
  {
    MutexLock lock(state_->mutex);
    state_->changed.Wait(state_->mutex,
                         [&]() REQUIRES(state_->mutex) { return state_->stopping || closed; });
  }
  // Asked outside our lock: the connection has its own. Status readers then see "disconnected"
  // and its reason together.
  const std::string error = "tunnel lost: " + connection->FailureReason();
  {
    MutexLock lock(state_->mutex);
    if (state_->current == connection) state_->current.reset();
    state_->status.connected = false;
    if (state_->stopping) return;
    state_->status.last_error = error;
  }
  state_->changed.NotifyAll();
  spdlog::warn("traffic-manager {}: {}", manager_address_, error);
}

bool TunnelClient::SleepUnlessStopping(std::chrono::milliseconds duration) {
  MutexLock lock(state_->mutex);
  return !state_->changed.WaitFor(state_->mutex, duration,
                                  [this]() REQUIRES(state_->mutex) { return state_->stopping; });
}

void TunnelClient::SetError(const std::string& error) {
  {
    MutexLock lock(state_->mutex);
    if (state_->status.last_error == error) return;  // log each new reason once
    state_->status.last_error = error;
  }
  spdlog::warn("traffic-manager {}: {}", manager_address_, error);
}

}  // namespace tp::daemon
