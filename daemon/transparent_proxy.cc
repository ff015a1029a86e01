#include "daemon/transparent_proxy.h"

#include <arpa/inet.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/ipv4.h"
#include "daemon/captured_tcp_relay.h"
#include "net/accept.h"
#include "net/socket_address.h"
#include "sync/mutex.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kListenBacklog = 1024;
constexpr size_t kMaxDatagramBytes = 65535;
// Datagrams read per wake-up before the receiver looks at the clock and the stop event again.
constexpr int kDatagramBurst = 64;
constexpr std::chrono::milliseconds kIdleSweepInterval{1000};
// A datagram waits at most this long for room in the tunnel's queue; then it is dropped.
constexpr std::chrono::milliseconds kDatagramQueueTimeout{50};
constexpr uint32_t kLoopbackNetwork = 0x7f000000;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

bool SetFlag(int socket, int level, int name) {
  const int yes = 1;
  return ::setsockopt(socket, level, name, &yes, sizeof yes) == 0;
}

bool IsLoopback(const Ipv4Endpoint& endpoint) {
  return Ipv4Prefix{{kLoopbackNetwork}, 8}.Contains(Ipv4Address{endpoint.address});
}

// A transparent socket of `type` bound to 0.0.0.0:port; invalid with `error` set on failure.
UniqueFd BindTransparent(int type, uint16_t port, std::string& error) {
  UniqueFd socket(::socket(AF_INET, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.Valid()) {
    error = Errno("socket");
    return {};
  }
  if (!SetFlag(socket.Get(), SOL_IP, IP_TRANSPARENT)) {
    error = Errno("IP_TRANSPARENT (needs NET_ADMIN)");
    return {};
  }
  const bool stream = type == SOCK_STREAM;
  if ((stream && !SetFlag(socket.Get(), SOL_SOCKET, SO_REUSEADDR)) ||
      (!stream && !SetFlag(socket.Get(), SOL_IP, IP_RECVORIGDSTADDR))) {
    error = Errno("setsockopt");
    return {};
  }
  const sockaddr_in address = Ipv4Endpoint{INADDR_ANY, port}.ToSockaddr();
  if (::bind(socket.Get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
    error =
        Errno(std::string("bind ") + (stream ? "TCP" : "UDP") + " 0.0.0.0:" + std::to_string(port));
    return {};
  }
  if (stream && ::listen(socket.Get(), kListenBacklog) != 0) {
    error = Errno("listen");
    return {};
  }
  return socket;
}

// The transparent IPv6 socket of `type` on [::]:port (IPv6 only): the TCP listener, or the UDP
// socket that reads each datagram's original destination. Invalid with `error` set when this
// host cannot have one (no IPv6).
UniqueFd BindTransparentIpv6(int type, uint16_t port, std::string& error) {
  UniqueFd socket(::socket(AF_INET6, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!socket.Valid()) {
    error = Errno("socket AF_INET6");
    return {};
  }
  const bool stream = type == SOCK_STREAM;
  if (!SetFlag(socket.Get(), SOL_IPV6, IPV6_TRANSPARENT) ||
      !SetFlag(socket.Get(), IPPROTO_IPV6, IPV6_V6ONLY) ||
      (stream && !SetFlag(socket.Get(), SOL_SOCKET, SO_REUSEADDR)) ||
      (!stream && !SetFlag(socket.Get(), SOL_IPV6, IPV6_RECVORIGDSTADDR))) {
    error = Errno("setsockopt");
    return {};
  }
  sockaddr_in6 address{};
  address.sin6_family = AF_INET6;
  address.sin6_addr = in6addr_any;
  address.sin6_port = htons(port);
  if (::bind(socket.Get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0 ||
      (stream && ::listen(socket.Get(), kListenBacklog) != 0)) {
    error =
        Errno(std::string("bind ") + (stream ? "TCP" : "UDP") + " [::]:" + std::to_string(port));
    return {};
  }
  return socket;
}

// Whether `address` is a loopback one (127.0.0.0/8, ::1): never a captured destination.
bool IsLoopbackAddress(const SocketAddress& address) {
  if (address.family() == AF_INET6) {
    return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr);
  }
  const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(address.get());
  return (ntohl(ipv4->sin_addr.s_addr) >> 24) == (kLoopbackNetwork >> 24);
}

std::optional<Ipv4Endpoint> LocalEndpoint(int socket) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getsockname(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sin_family != AF_INET) {
    return std::nullopt;
  }
  return Ipv4Endpoint::FromSockaddr(address);
}

// Where a captured connection was going, and where it came from, in either family.
struct CapturedRoute {
  std::string host;  // "10.0.0.5", "fd00::5": where the tunnel opens the connection
  uint16_t port = 0;
  bool loopback = false;  // not a captured connection
  std::string text;       // "PEER -> DESTINATION", for logs
};

// Whether `host` (numeric) is one of this host's own addresses: a plain (not transparent) socket
// can bind it. A connection whose destination is the capture port on such an address came to
// the listener directly, not through the capture; relaying it would open the capture port of
// whatever that address is in the cluster (in a demo on this host: this proxy, in a loop).
bool IsOwnAddress(const std::string& host) {
  const std::optional<SocketAddress> address = ParseSocketAddress(host, 0);
  if (!address) return false;
  const UniqueFd probe(::socket(address->family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  return probe.Valid() && ::bind(probe.Get(), address->get(), address->length) == 0;
}

// The route of a connection accepted on the IPv6 listener: TPROXY's, its local address.
std::optional<CapturedRoute> CapturedIpv6Route(int socket) {
  sockaddr_storage local{}, peer{};
  socklen_t local_length = sizeof local, peer_length = sizeof peer;
  if (::getsockname(socket, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
      ::getpeername(socket, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0 ||
      local.ss_family != AF_INET6) {
    return std::nullopt;
  }
  const bool loopback = IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<sockaddr_in6*>(&local)->sin6_addr);
  return CapturedRoute{AddressText(local), AddressPort(local), loopback,
                       EndpointText(peer) + " -> " + EndpointText(local)};
}

// Where a captured connection was going: its local address when TPROXY delivered it (the
// original destination), or the original destination conntrack kept when the capture's
// `redirect` rule sent it here (TCP from a bridge, see CaptureTable).
std::optional<Ipv4Endpoint> CapturedDestination(int socket) {
  const std::optional<Ipv4Endpoint> local = LocalEndpoint(socket);
  sockaddr_in original{};
  socklen_t length = sizeof original;
  if (!local || ::getsockopt(socket, SOL_IP, SO_ORIGINAL_DST, &original, &length) != 0 ||
      original.sin_family != AF_INET) {
    return local;
  }
  return Ipv4Endpoint::FromSockaddr(original);
}

std::optional<Ipv4Endpoint> PeerEndpoint(int socket) {
  sockaddr_in address{};
  socklen_t length = sizeof address;
  if (::getpeername(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0 ||
      address.sin_family != AF_INET) {
    return std::nullopt;
  }
  return Ipv4Endpoint::FromSockaddr(address);
}

// One datagram as recvmsg gave it: who sent it, where it was going, and its length.
struct ReceivedDatagram {
  SocketAddress client;
  std::optional<SocketAddress> destination;  // from IP_ORIGDSTADDR (IPV6_ORIGDSTADDR)
  size_t length = 0;
};

// Reads one datagram into `buffer`; nullopt when none is waiting (or on error).
std::optional<ReceivedDatagram> ReceiveDatagram(int socket, std::vector<uint8_t>& buffer) {
  ReceivedDatagram datagram;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(sockaddr_in6))];
  iovec data{buffer.data(), buffer.size()};
  msghdr message{};
  message.msg_name = &datagram.client.storage;
  message.msg_namelen = sizeof datagram.client.storage;
  message.msg_iov = &data;
  message.msg_iovlen = 1;
  message.msg_control = control;
  message.msg_controllen = sizeof control;
  const ssize_t got = ::recvmsg(socket, &message, MSG_DONTWAIT);
  if (got < 0) return std::nullopt;
  datagram.client.length = message.msg_namelen;
  datagram.length = static_cast<size_t>(got);
  for (cmsghdr* header = CMSG_FIRSTHDR(&message); header != nullptr;
       header = CMSG_NXTHDR(&message, header)) {
    const bool ipv4 = header->cmsg_level == SOL_IP && header->cmsg_type == IP_ORIGDSTADDR;
    const bool ipv6 = header->cmsg_level == SOL_IPV6 && header->cmsg_type == IPV6_ORIGDSTADDR;
    if (!ipv4 && !ipv6) continue;
    SocketAddress destination;
    destination.length = ipv6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in);
    std::memcpy(&destination.storage, CMSG_DATA(header), destination.length);
    datagram.destination = destination;
  }
  return datagram;
}

}  // namespace

std::unique_ptr<TransparentProxy> TransparentProxy::Start(const TransparentProxyOptions& options,
                                                          TunnelSource tunnel, std::string& error) {
  UniqueFd tcp_listener = BindTransparent(SOCK_STREAM, options.port, error);
  if (!tcp_listener.Valid()) return nullptr;
  const std::optional<Ipv4Endpoint> bound = LocalEndpoint(tcp_listener.Get());
  if (!bound) {
    error = Errno("getsockname");
    return nullptr;
  }
  UniqueFd udp_socket = BindTransparent(SOCK_DGRAM, bound->port, error);
  if (!udp_socket.Valid()) return nullptr;
  std::string ipv6_error;
  UniqueFd tcp6_listener = BindTransparentIpv6(SOCK_STREAM, bound->port, ipv6_error);
  if (!tcp6_listener.Valid()) spdlog::warn("capture: no IPv6 TCP capture: {}", ipv6_error);
  UniqueFd udp6_socket = BindTransparentIpv6(SOCK_DGRAM, bound->port, ipv6_error);
  if (tcp6_listener.Valid() && !udp6_socket.Valid()) {
    spdlog::warn("capture: no IPv6 UDP capture: {}", ipv6_error);
  }
  std::unique_ptr<TransparentProxy> proxy(new TransparentProxy(
      options, std::move(tunnel), std::move(tcp_listener), std::move(tcp6_listener),
      std::move(udp_socket), std::move(udp6_socket), bound->port));
  if (!proxy->stop_.Valid()) {
    error = Errno("eventfd");
    return nullptr;
  }
  proxy->acceptor_ = std::thread([raw = proxy.get()] { raw->AcceptLoop(); });
  proxy->receiver_ = std::thread([raw = proxy.get()] { raw->ReceiveLoop(); });
  return proxy;
}

TransparentProxy::TransparentProxy(const TransparentProxyOptions& options, TunnelSource tunnel,
                                   UniqueFd tcp_listener, UniqueFd tcp6_listener,
                                   UniqueFd udp_socket, UniqueFd udp6_socket, uint16_t port)
    : options_(options),
      tunnel_(std::move(tunnel)),
      tcp_listener_(std::move(tcp_listener)),
      tcp6_listener_(std::move(tcp6_listener)),
      udp_socket_(std::move(udp_socket)),
      udp6_socket_(std::move(udp6_socket)),
      port_(port),
      udp_flows_(options.udp) {}

TransparentProxy::~TransparentProxy() { Stop(); }

void TransparentProxy::Stop() {
  stop_.Trigger();
  if (acceptor_.joinable()) acceptor_.join();
  if (receiver_.joinable()) receiver_.join();
  std::list<Connection> connections;
  {
    MutexLock lock(connections_mutex_);
    connections.swap(connections_);
  }
  for (Connection& connection : connections) connection.thread.join();
}

TransparentProxyCounters TransparentProxy::Counters() const {
  return {tcp_accepted_.load(), tcp_refused_.load(), udp_datagrams_.load(),
          udp_dropped_.load(),  udp_replies_.load(), udp_flows_.Size()};
}

void TransparentProxy::DeliverUdpReply(uint32_t flow_id, const tunnel::UdpReply& reply) {
  if (udp_flows_.SendReply(flow_id, reply.bytes)) ++udp_replies_;
}

void TransparentProxy::AcceptLoop() {
  while (!stop_.Triggered()) {
    // An invalid IPv6 listener (-1) is ignored by poll.
    pollfd waiters[] = {{stop_.Fd(), POLLIN, 0},
                        {tcp_listener_.Get(), POLLIN, 0},
                        {tcp6_listener_.Get(), POLLIN, 0}};
    if (::poll(waiters, 3, -1) <= 0 || waiters[0].revents != 0) continue;
    const bool ipv6 = waiters[1].revents == 0;
    UniqueFd client = AcceptConnection(ipv6 ? tcp6_listener_.Get() : tcp_listener_.Get());
    if (!client.Valid()) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOMEM) {
        spdlog::warn("capture: accept: {}", std::strerror(errno));
      }
      continue;
    }
    ++tcp_accepted_;
    if (ReapConnections() >= options_.max_tcp_connections) {
      spdlog::warn("capture: {} TCP connections are relayed already; connection reset",
                   options_.max_tcp_connections);
      ++tcp_refused_;
      ResetAndClose(std::move(client));
      continue;
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    auto owned = std::make_shared<UniqueFd>(std::move(client));
    MutexLock lock(connections_mutex_);
    connections_.push_back({std::thread([this, owned, done, ipv6] {
                              ServeConnection(std::move(*owned), ipv6);
                              done->store(true);
                            }),
                            done});
  }
}

size_t TransparentProxy::ReapConnections() {
  std::list<Connection> ended;
  size_t running = 0;
  {
    MutexLock lock(connections_mutex_);
    for (auto it = connections_.begin(); it != connections_.end();) {
      const auto next = std::next(it);
      if (it->done->load()) {
        ended.splice(ended.end(), connections_, it);
      } else {
        ++running;
      }
      it = next;
    }
  }
  for (Connection& connection : ended) connection.thread.join();
  return running;
}

namespace {

std::optional<CapturedRoute> CapturedIpv4Route(int socket) {
  const std::optional<Ipv4Endpoint> destination = CapturedDestination(socket);
  const std::optional<Ipv4Endpoint> peer = PeerEndpoint(socket);
  if (!destination) return std::nullopt;
  return CapturedRoute{destination->AddressText(), destination->port, IsLoopback(*destination),
                       (peer ? peer->Text() : "?") + " -> " + destination->Text()};
}

}  // namespace

void TransparentProxy::ServeConnection(UniqueFd client, bool ipv6) {
  const std::optional<CapturedRoute> captured =
      ipv6 ? CapturedIpv6Route(client.Get()) : CapturedIpv4Route(client.Get());
  const std::string route = captured ? captured->text : "?";
  const auto refuse = [&](const std::string& reason) {
    spdlog::warn("capture: TCP {}: {}; connection reset", route, reason);
    ++tcp_refused_;
    ResetAndClose(std::move(client));
  };
  if (!captured || captured->loopback) return refuse("not a captured connection");
  if (captured->port == port_ && IsOwnAddress(captured->host)) {
    return refuse("a direct connection to the capture port, not a captured one");
  }
  const std::shared_ptr<tunnel::TunnelConnection> tunnel = tunnel_();
  if (!tunnel) return refuse("no tunnel to the traffic-manager");
  SetFlag(client.Get(), IPPROTO_TCP, TCP_NODELAY);
  // The client's first bytes go right behind the open, without waiting for its answer: a
  // request costs one round trip to the cluster, not two. A refused open resets the client.
  const std::unique_ptr<tunnel::TunnelStream> stream =
      tunnel->OpenTcpEarly(captured->host, captured->port, Clock::now() + options_.open_timeout);
  spdlog::debug("capture: TCP {} through tunnel stream {}", route, stream->id());
  if (RelayCapturedTcp(client.Get(), *stream, stop_) == RelayEnd::kReset) {
    if (!stream->WasOpened()) {
      const std::string reason = stream->FailureReason();
      return refuse("the cluster side cannot connect (" +
                    (reason.empty() ? std::string("stream reset") : reason) + ")");
    }
    ResetAndClose(std::move(client));
  }
}

void TransparentProxy::ReceiveLoop() {
  std::vector<uint8_t> buffer(kMaxDatagramBytes);
  Clock::time_point next_sweep = Clock::now() + kIdleSweepInterval;
  while (!stop_.Triggered()) {
    // (An invalid udp6_socket_ is -1, which poll leaves out.)
    pollfd waiters[] = {
        {stop_.Fd(), POLLIN, 0}, {udp_socket_.Get(), POLLIN, 0}, {udp6_socket_.Get(), POLLIN, 0}};
    const int ready = ::poll(waiters, 3, static_cast<int>(kIdleSweepInterval.count()));
    if (Clock::now() >= next_sweep) {
      udp_flows_.ExpireIdle();
      next_sweep = Clock::now() + kIdleSweepInterval;
    }
    if (ready <= 0 || waiters[0].revents != 0) continue;
    if (waiters[1].revents != 0) ForwardWaitingDatagrams(udp_socket_.Get(), buffer);
    if (waiters[2].revents != 0) ForwardWaitingDatagrams(udp6_socket_.Get(), buffer);
  }
}

void TransparentProxy::ForwardWaitingDatagrams(int socket, std::vector<uint8_t>& buffer) {
  for (int count = 0; count < kDatagramBurst; ++count) {
    const std::optional<ReceivedDatagram> datagram = ReceiveDatagram(socket, buffer);
    if (!datagram) return;
    if (!datagram->destination || IsLoopbackAddress(*datagram->destination)) {
      ++udp_dropped_;
      continue;
    }
    ForwardDatagram(datagram->client, *datagram->destination,
                    std::span(buffer.data(), datagram->length));
  }
}

void TransparentProxy::ForwardDatagram(const SocketAddress& client,
                                       const SocketAddress& destination,
                                       std::span<const uint8_t> bytes) {
  // For the logs only: not formatted for every datagram.
  const auto route = [&] {
    return EndpointText(client.storage) + " -> " + EndpointText(destination.storage);
  };
  const std::shared_ptr<tunnel::TunnelConnection> tunnel = tunnel_();
  if (!tunnel) {
    ++udp_dropped_;
    if (spdlog::should_log(spdlog::level::debug)) {
      spdlog::debug("capture: UDP {}: no tunnel; datagram dropped", route());
    }
    return;
  }
  std::string error;
  const std::optional<uint32_t> flow_id = udp_flows_.FlowFor(client, destination, error);
  if (!flow_id) {
    ++udp_dropped_;
    spdlog::warn("capture: UDP {}: {}; datagram dropped", route(), error);
    return;
  }
  tunnel::UdpDatagram datagram{AddressText(destination.storage), AddressPort(destination.storage),
                               std::vector<uint8_t>(bytes.begin(), bytes.end())};
  if (tunnel->SendUdpDatagram(*flow_id, std::move(datagram),
                              Clock::now() + kDatagramQueueTimeout)) {
    ++udp_datagrams_;
  } else {
    ++udp_dropped_;
  }
}

}  // namespace tp::daemon
