#include "cluster/agent/port_forwarder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "cluster/agent/connection_relay.h"
#include "net/accept.h"
#include "net/host_port.h"
#include "net/tcp_socket.h"

namespace tp::agent {
namespace {

using Clock = std::chrono::steady_clock;

void CloseAfter(RelayEnd end, UniqueFd socket) {
  if (end == RelayEnd::kClosed) return;  // closed normally when `socket` goes
  ResetAndClose(std::move(socket));
}

}  // namespace

std::unique_ptr<PortForwarder> PortForwarder::Start(PortForwarderOptions options,
                                                    RouteSource routes, std::string& error) {
  std::unique_ptr<PortForwarder> forwarder(
      new PortForwarder(std::move(options), std::move(routes)));
  std::vector<std::string> addresses{forwarder->options_.listen_address};
  if (!forwarder->options_.listen_address6.empty()) {
    addresses.push_back(forwarder->options_.listen_address6);
  }
  for (const std::string& address : addresses) {
    for (const uint16_t port : forwarder->options_.ports) {
      TcpListener bound = ListenTcp(HostPort{address, port}, error);
      if (!bound.socket.Valid()) return nullptr;
      Listener listener;
      listener.socket = std::move(bound.socket);
      listener.address = address;
      listener.workload_port = port;
      listener.bound_port = static_cast<uint16_t>(bound.bound_port);
      forwarder->listeners_.push_back(std::move(listener));
    }
  }
  for (const Listener& listener : forwarder->listeners_) {
    PortForwarder& self = *forwarder;
    forwarder->tasks_.Spawn([&self, &listener] { self.AcceptLoop(listener); });
    spdlog::info("forwarding {} to {}:{}", HostPortText({listener.address, listener.bound_port}),
                 self.options_.app_address, self.options_.app_port(listener.workload_port));
  }
  return forwarder;
}

PortForwarder::PortForwarder(PortForwarderOptions options, RouteSource routes)
    : options_(std::move(options)), routes_(std::move(routes)) {}

PortForwarder::~PortForwarder() {
  stopping_.store(true);
  tasks_.JoinAll();
}

void PortForwarder::AcceptLoop(const Listener& listener) {
  while (!stopping_.load()) {
    pollfd wait{listener.socket.Get(), POLLIN, 0};
    if (::poll(&wait, 1, static_cast<int>(kPollSlice.count())) <= 0) continue;
    UniqueFd client = AcceptConnection(listener.socket.Get());
    if (!client.Valid()) continue;
    // Relayed answers leave in the pieces they arrive in: a small last piece must not wait for
    // the client's acknowledgment of the one before (Nagle).
    EnableNoDelay(client.Get());
    const uint16_t port = listener.workload_port;
    auto shared_client = std::make_shared<UniqueFd>(std::move(client));
    if (!tasks_.Spawn([this, shared_client, port] { Serve(std::move(*shared_client), port); })) {
      spdlog::warn("port {}: too many connections at once; one closed", port);
    }
  }
}

void PortForwarder::Serve(UniqueFd client, uint16_t workload_port) {
  const std::optional<Engagement> engagement =
      routes_.engagement ? routes_.engagement() : std::nullopt;
  switch (RouteFor(engagement, workload_port)) {
    case ConnectionRoute::kForward:
      return Forward(std::move(client), workload_port, std::nullopt);
    case ConnectionRoute::kWiretap:
      return Forward(std::move(client), workload_port, engagement);
    case ConnectionRoute::kEngage:
      return Engage(std::move(client), workload_port, *engagement);
  }
}

void PortForwarder::Forward(UniqueFd client, uint16_t workload_port,
                            const std::optional<Engagement>& tap) {
  const uint16_t app_port = options_.app_port(workload_port);
  DialResult app = DialTcp(options_.app_address, app_port, Clock::now() + options_.dial_timeout);
  if (!app.socket.Valid()) {
    spdlog::debug("port {}: {}", workload_port, app.message);
    ResetAndClose(std::move(client));
    return;
  }
  std::unique_ptr<WiretapCopy> copy;
  if (tap) {
    const std::shared_ptr<tunnel::TunnelConnection> connection =
        routes_.tunnel ? routes_.tunnel() : nullptr;
    const std::string host = EngagementStreamHost(*tap);
    const auto open_timeout = options_.open_timeout;
    copy = std::make_unique<WiretapCopy>(
        [connection, host, workload_port, open_timeout]() -> std::unique_ptr<tunnel::TunnelStream> {
          if (!connection) return nullptr;
          tunnel::OpenResult opened =
              connection->OpenTcp(host, workload_port, Clock::now() + open_timeout);
          if (!opened.stream) spdlog::debug("wiretap copy to {}: {}", host, opened.reason);
          return std::move(opened.stream);
        });
  }
  ClientTap client_tap;
  if (copy) client_tap = [&copy](std::span<const uint8_t> bytes) { copy->Push(bytes); };
  const RelayEnd end = RelaySockets(client.Get(), app.socket.Get(), stopping_, client_tap);
  CloseAfter(end, std::move(client));
  CloseAfter(end, std::move(app.socket));
}

void PortForwarder::Engage(UniqueFd client, uint16_t workload_port, const Engagement& engagement) {
  const std::shared_ptr<tunnel::TunnelConnection> connection =
      routes_.tunnel ? routes_.tunnel() : nullptr;
  if (!connection) {
    ResetAndClose(std::move(client));
    return;
  }
  // The client's first bytes travel right behind the open, before the handler answers; a
  // refusal fails the stream, which resets the client.
  const std::string host = EngagementStreamHost(engagement);
  const std::unique_ptr<tunnel::TunnelStream> stream =
      connection->OpenTcpEarly(host, workload_port, Clock::now() + options_.open_timeout);
  const RelayEnd end = RelaySocketAndStream(client.Get(), *stream, stopping_, &tasks_);
  if (!stream->WasOpened()) {
    spdlog::info("port {}: {} refused the connection: {}", workload_port, host,
                 stream->FailureReason());
  }
  CloseAfter(end, std::move(client));
}

}  // namespace tp::agent
