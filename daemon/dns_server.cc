#include "daemon/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "net/accept.h"
#include "net/socket_address.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kMaxDatagramBytes = 65535;

// A socket of `type` (SOCK_DGRAM or SOCK_STREAM) bound to address:port, and the port it got;
// error set on failure. A stream socket also listens.
UniqueFd BindSocket(int type, const std::string& address, uint16_t port, uint16_t& bound_port,
                    std::string& error) {
  std::optional<SocketAddress> bound = ParseSocketAddress(address, port);
  if (!bound) {
    error = "DNS listen address is not a numeric IP address: " + address;
    return {};
  }
  UniqueFd socket(::socket(bound->family(), type | SOCK_CLOEXEC, 0));
  if (type == SOCK_STREAM && socket.Valid()) {
    const int on = 1;
    ::setsockopt(socket.Get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  }
  if (!socket.Valid() || ::bind(socket.Get(), bound->get(), bound->length) != 0 ||
      (type == SOCK_STREAM && ::listen(socket.Get(), SOMAXCONN) != 0)) {
    error = "cannot bind the DNS server to " + address + ":" + std::to_string(port) + ": " +
            std::strerror(errno);
    return {};
  }
  socklen_t length = sizeof bound->storage;
  ::getsockname(socket.Get(), reinterpret_cast<sockaddr*>(&bound->storage), &length);
  bound_port = AddressPort(bound->storage);
  return socket;
}

struct BoundSockets {
  UniqueFd udp;
  UniqueFd tcp;
  uint16_t port = 0;
};

// UDP and TCP sockets on the same port. For port 0, the port the kernel gives the UDP socket
// may be taken for TCP: then another one is tried, a few times.
BoundSockets BindUdpAndTcp(const std::string& address, uint16_t port, std::string& error) {
  constexpr int kAttempts = 8;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    BoundSockets sockets;
    sockets.udp = BindSocket(SOCK_DGRAM, address, port, sockets.port, error);
    if (!sockets.udp.Valid()) return {};
    uint16_t tcp_port = 0;
    sockets.tcp = BindSocket(SOCK_STREAM, address, sockets.port, tcp_port, error);
    if (sockets.tcp.Valid()) return sockets;
    if (port != 0) return {};
  }
  return {};
}

// Big-endian 16-bit length, as DNS over TCP frames each message.
std::array<uint8_t, 2> LengthPrefix(size_t length) {
  return {static_cast<uint8_t>(length >> 8), static_cast<uint8_t>(length)};
}

// The rules from the options; error set when a domain is not a valid name.
std::optional<DnsRules> RulesFrom(const DnsServerOptions& options, std::string& error) {
  DnsRules rules;
  rules.ndots = options.ndots;
  const auto cluster_domain = dns::DnsName::FromText(options.cluster_domain);
  if (!cluster_domain) {
    error = "invalid cluster domain: " + options.cluster_domain;
    return std::nullopt;
  }
  rules.cluster_domain = *cluster_domain;
  for (const std::string& text : options.search_domains) {
    const auto domain = dns::DnsName::FromText(text);
    if (!domain || domain->labels.empty()) {
      error = "invalid DNS search domain: " + text;
      return std::nullopt;
    }
    rules.search_domains.push_back(*domain);
  }
  return rules;
}

}  // namespace

std::unique_ptr<DnsServer> DnsServer::Start(const DnsServerOptions& options, DnsResolver& cluster,
                                            std::string& error) {
  if (options.worker_count < 1 || options.query_timeout <= std::chrono::milliseconds::zero()) {
    error = "the DNS server needs at least one worker and a positive query timeout";
    return nullptr;
  }
  std::optional<DnsRules> rules = RulesFrom(options, error);
  if (!rules) return nullptr;
  auto upstream = std::make_unique<UdpDnsResolver>(NameserversFromResolvConf(options.resolv_conf));
  if (upstream->ServerCount() == 0) {
    spdlog::warn("dns: no nameserver in {}; names outside the cluster will fail",
                 options.resolv_conf);
  }
  BoundSockets sockets = BindUdpAndTcp(options.listen_address, options.listen_port, error);
  if (!sockets.udp.Valid() || !sockets.tcp.Valid()) return nullptr;
  return std::unique_ptr<DnsServer>(new DnsServer(options, std::move(*rules), cluster,
                                                  std::move(upstream), std::move(sockets.udp),
                                                  std::move(sockets.tcp), sockets.port));
}

DnsServer::DnsServer(const DnsServerOptions& options, DnsRules rules, DnsResolver& cluster,
                     std::unique_ptr<UdpDnsResolver> upstream, UniqueFd udp_socket,
                     UniqueFd tcp_listener, uint16_t port)
    : options_(options),
      upstream_(std::move(upstream)),
      answerer_(std::move(rules), cluster, *upstream_),
      socket_(std::move(udp_socket)),
      tcp_listener_(std::move(tcp_listener)),
      port_(port),
      stop_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  for (int index = 0; index < options_.worker_count; ++index) {
    workers_.emplace_back([this] { WorkLoop(); });
  }
  receiver_ = std::thread([this] { ReceiveLoop(); });
  tcp_acceptor_ = std::thread([this] { AcceptLoop(); });
}

DnsServer::~DnsServer() { Stop(); }

void DnsServer::Stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_event_.Get(), &one, sizeof one);
  {
    MutexLock lock(queue_mutex_);
    queue_changed_.NotifyAll();
  }
  receiver_.join();
  tcp_acceptor_.join();
  for (std::thread& worker : workers_) worker.join();
  std::list<TcpConnection> connections;
  {
    MutexLock lock(tcp_mutex_);
    connections.swap(tcp_connections_);
  }
  for (TcpConnection& connection : connections) connection.thread.join();
}

DnsServerCounters DnsServer::Counters() const {
  return {received_.load(), answered_.load(), dropped_.load(), deadline_missed_.load(),
          tcp_connections_accepted_.load()};
}

void DnsServer::ReceiveLoop() {
  std::vector<uint8_t> buffer(kMaxDatagramBytes);
  while (!stopping_) {
    pollfd waiters[2] = {{socket_.Get(), POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}};
    if (::poll(waiters, 2, -1) < 0 && errno != EINTR) {
      spdlog::error("dns: poll failed: {}", std::strerror(errno));
      return;
    }
    if (waiters[1].revents != 0) return;
    if ((waiters[0].revents & POLLIN) == 0) continue;
    PendingQuery query;
    query.peer_length = sizeof query.peer;
    const ssize_t got = ::recvfrom(socket_.Get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&query.peer), &query.peer_length);
    if (got < 0) continue;  // EAGAIN, or an ICMP error from an earlier reply
    ++received_;
    query.bytes.assign(buffer.begin(), buffer.begin() + got);
    query.deadline = Clock::now() + options_.query_timeout;
    Enqueue(std::move(query));
  }
}

void DnsServer::Enqueue(PendingQuery query) {
  MutexLock lock(queue_mutex_);
  if (queue_.size() >= options_.max_queued_queries) {
    ++dropped_;
    return;
  }
  queue_.push_back(std::move(query));
  queue_changed_.NotifyOne();
}

void DnsServer::WorkLoop() {
  while (true) {
    PendingQuery query;
    {
      MutexLock lock(queue_mutex_);
      // An idle wait for work, ended by Stop(); the queries themselves carry deadlines.
      queue_changed_.Wait(queue_mutex_,
                          [this]() REQUIRES(queue_mutex_) { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      query = std::move(queue_.front());
      queue_.pop_front();
    }
    Reply(query);
  }
}

void DnsServer::Reply(const PendingQuery& query) {
  const DnsReply reply = answerer_.Answer(query.bytes, query.deadline);
  if (reply.bytes.empty()) {
    ++dropped_;
    return;
  }
  if (reply.route == DnsRoute::kDeadline) ++deadline_missed_;
  if (::sendto(socket_.Get(), reply.bytes.data(), reply.bytes.size(), MSG_NOSIGNAL,
               reinterpret_cast<const sockaddr*>(&query.peer), query.peer_length) < 0) {
    spdlog::debug("dns: cannot send a reply: {}", std::strerror(errno));
    return;
  }
  ++answered_;
}

void DnsServer::AcceptLoop() {
  while (!stopping_) {
    pollfd waiters[2] = {{tcp_listener_.Get(), POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}};
    if (::poll(waiters, 2, -1) < 0 && errno != EINTR) {
      spdlog::error("dns: poll failed: {}", std::strerror(errno));
      return;
    }
    if (waiters[1].revents != 0) return;
    if ((waiters[0].revents & POLLIN) == 0) continue;
    auto socket = std::make_shared<UniqueFd>(AcceptConnection(tcp_listener_.Get()));
    if (!socket->Valid()) continue;
    if (ReapTcpConnections() >= static_cast<size_t>(options_.max_tcp_connections)) {
      spdlog::debug("dns: too many TCP connections; one closed");
      continue;
    }
    ++tcp_connections_accepted_;
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([this, socket, done] {
      ServeTcp(socket->Get());
      done->store(true);
    });
    MutexLock lock(tcp_mutex_);
    tcp_connections_.push_back({std::move(thread), std::move(done)});
  }
}

size_t DnsServer::ReapTcpConnections() {
  std::list<TcpConnection> finished;
  size_t running = 0;
  {
    MutexLock lock(tcp_mutex_);
    for (auto it = tcp_connections_.begin(); it != tcp_connections_.end();) {
      const auto next = std::next(it);
      if (it->done->load()) {
        finished.splice(finished.end(), tcp_connections_, it);
      } else {
        ++running;
      }
      it = next;
    }
  }
  for (TcpConnection& connection : finished) connection.thread.join();
  return running;
}

void DnsServer::ServeTcp(int socket) {
  constexpr size_t kMaxTcpReply = 65535;
  while (!stopping_) {
    std::array<uint8_t, 2> prefix{};
    if (!ReadExactly(socket, prefix, Clock::now() + options_.tcp_idle_timeout)) return;
    const Clock::time_point deadline = Clock::now() + options_.query_timeout;
    std::vector<uint8_t> query(static_cast<size_t>(prefix[0] << 8 | prefix[1]));
    if (!ReadExactly(socket, query, deadline)) return;
    ++received_;
    const DnsReply reply = answerer_.Answer(query, deadline, kMaxTcpReply);
    if (reply.bytes.empty()) {
      ++dropped_;
      return;  // not a query: this peer does not speak DNS
    }
    if (reply.route == DnsRoute::kDeadline) ++deadline_missed_;
    const std::array<uint8_t, 2> length = LengthPrefix(reply.bytes.size());
    std::vector<uint8_t> framed(length.begin(), length.end());
    framed.insert(framed.end(), reply.bytes.begin(), reply.bytes.end());
    if (!tunnel::WriteAll(socket, framed, Clock::now() + options_.query_timeout)) return;
    ++answered_;
  }
}

bool DnsServer::ReadExactly(int socket, std::span<uint8_t> into, Clock::time_point deadline) const {
  size_t got = 0;
  while (got < into.size()) {
    pollfd waiters[2] = {{socket, POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}};
    const int ready = ::poll(waiters, 2, MillisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || waiters[1].revents != 0) return false;
    const ssize_t count = ::recv(socket, into.data() + got, into.size() - got, MSG_DONTWAIT);
    if (count < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (count <= 0) return false;
    got += static_cast<size_t>(count);
  }
  return true;
}

}  // namespace tp::daemon
