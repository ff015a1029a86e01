#include "daemon/sftp_forward.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/sftp_preface.h"
#include "daemon/captured_tcp_relay.h"
#include "net/accept.h"
#include "net/tcp_socket.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

std::unique_ptr<SftpForward> SftpForward::Start(SftpForwardOptions options, TunnelSource tunnel,
                                                std::string& error) {
  TcpListener listener = ListenTcp(options.listen_host + ":0", error);
  if (!listener.socket.Valid()) {
    error += " (for the SFTP forward)";
    return nullptr;
  }
  const auto port = static_cast<uint16_t>(listener.bound_port);
  std::unique_ptr<SftpForward> forward(
      new SftpForward(std::move(options), std::move(tunnel), std::move(listener.socket), port));
  if (!forward->stop_.Valid()) {
    error = Errno("eventfd");
    return nullptr;
  }
  forward->acceptor_ = std::thread([raw = forward.get()] { raw->AcceptLoop(); });
  return forward;
}

SftpForward::SftpForward(SftpForwardOptions options, TunnelSource tunnel, UniqueFd listener,
                         uint16_t port)
    : options_(std::move(options)),
      tunnel_(std::move(tunnel)),
      listener_(std::move(listener)),
      port_(port),
      relays_(options_.max_connections) {}

SftpForward::~SftpForward() { Stop(); }

void SftpForward::Stop() {
  stop_.Trigger();
  if (acceptor_.joinable()) acceptor_.join();
  relays_.JoinAll();
  listener_.Reset();
}

void SftpForward::AcceptLoop() {
  while (!stop_.Triggered()) {
    pollfd waiters[] = {{listener_.Get(), POLLIN, 0}, {stop_.Fd(), POLLIN, 0}};
    if (::poll(waiters, 2, -1) <= 0 || waiters[1].revents != 0) continue;
    UniqueFd client = AcceptConnection(listener_.Get());
    if (!client.Valid()) continue;
    if (!PeerAllowed(client.Get())) continue;  // closed: it reached nothing
    auto owned = std::make_shared<UniqueFd>(std::move(client));
    if (!relays_.Spawn([this, owned] { Serve(std::move(*owned)); })) {
      spdlog::warn("SFTP forward :{}: {} connections are relayed already; connection reset", port_,
                   options_.max_connections);
      ResetAndClose(std::move(*owned));
    }
  }
}

bool SftpForward::PeerAllowed(int client) const {
  if (!options_.allowed_peer) return true;
  sockaddr_in peer{};
  socklen_t length = sizeof peer;
  if (::getpeername(client, reinterpret_cast<sockaddr*>(&peer), &length) != 0 ||
      peer.sin_family != AF_INET) {
    return false;
  }
  const Ipv4Address address{ntohl(peer.sin_addr.s_addr)};
  if (address == *options_.allowed_peer) return true;
  spdlog::warn("SFTP forward :{}: a connection from {} (only {} may connect) closed", port_,
               address.ToString(), options_.allowed_peer->ToString());
  return false;
}

void SftpForward::Serve(UniqueFd client) {
  const std::string target = options_.target_host + ":" + std::to_string(options_.target_port);
  const auto refuse = [&](const std::string& reason) {
    spdlog::warn("SFTP forward :{} -> {}: {}; connection reset", port_, target, reason);
    ResetAndClose(std::move(client));
  };
  if (!options_.client_token.empty()) {
    const std::string wrong = ExpectSftpPreface(client.Get(), options_.client_token);
    if (!wrong.empty()) return refuse("the client sent " + wrong);
  }
  const std::shared_ptr<tunnel::TunnelConnection> tunnel = tunnel_();
  if (!tunnel) return refuse("no tunnel to the traffic-manager");
  const int yes = 1;
  ::setsockopt(client.Get(), IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  // The preface and the client's first requests go right behind the open, without waiting for
  // its answer. A refused open resets the client.
  const std::unique_ptr<tunnel::TunnelStream> stream = tunnel->OpenTcpEarly(
      options_.target_host, options_.target_port, Clock::now() + options_.open_timeout);
  const auto unreachable = [&] {
    const std::string reason = stream->FailureReason();
    refuse("the agent cannot be reached (" +
           (reason.empty() ? std::string("stream reset") : reason) + ")");
  };
  if (!options_.agent_token.empty() && !SendPreface(*stream)) {
    if (stream->Failed() && !stream->WasOpened()) return unreachable();
    stream->Reset();
    return refuse("the agent's stream took no preface");
  }
  if (RelayCapturedTcp(client.Get(), *stream, stop_) == RelayEnd::kReset) {
    if (!stream->WasOpened()) return unreachable();
    ResetAndClose(std::move(client));
  }
}

bool SftpForward::SendPreface(tunnel::TunnelStream& stream) const {
  const std::string preface = SftpPreface(options_.agent_token);
  const auto bytes = std::span(reinterpret_cast<const uint8_t*>(preface.data()), preface.size());
  return stream.Write(bytes, Clock::now() + options_.open_timeout).ok();
}

}  // namespace tp::daemon
