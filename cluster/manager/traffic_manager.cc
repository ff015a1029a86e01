#include "cluster/manager/traffic_manager.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "cluster/manager/dns_forwarder.h"
#include "cluster/manager/tcp_relay.h"
#include "cluster/manager/udp_flows.h"
#include "net/accept.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
// How long a UDP reply or DNS answer may wait for room in the tunnel's queue before it is
// dropped (the client retries, as it would on any UDP loss).
constexpr std::chrono::milliseconds kDatagramQueueTimeout{200};
// Each stream and each DNS query in flight holds a thread; a client cannot have more.
constexpr int kMaxStreamsPerTunnel = 2048;
constexpr int kMaxDnsQueriesInFlight = 128;

// Counts one unit of a limited resource for as long as it lives.
class CountedSlot {
 public:
  explicit CountedSlot(std::atomic<int>& counter) : counter_(counter) { ++counter_; }
  ~CountedSlot() { --counter_; }
  CountedSlot(const CountedSlot&) = delete;
  CountedSlot& operator=(const CountedSlot&) = delete;

 private:
  std::atomic<int>& counter_;
};

// Daemons and agents hold different secrets: a client that names itself "agent/<workload>" must
// present the agents' one (and is refused when the manager has none), anything else the daemons'.
// So holding a daemon's secret does not let anyone pose as a workload's agent.
tunnel::SecretForClient SecretFor(const ManagerConfig& config) {
  return [&config](std::string_view client_name) -> std::optional<std::string> {
    if (PeerKindOf(std::string(client_name)) != PeerKind::kAgent) return config.secret;
    if (config.agent_secret.empty()) return std::nullopt;
    return config.agent_secret;
  };
}

}  // namespace

// One accepted tunnel: handshake, then handlers for the client's requests until the tunnel
// dies or the manager stops. Its tasks end before its connection is destroyed.
class Session {
 public:
  Session(UniqueFd socket, const ManagerConfig& config, tunnel::Welcome welcome, SessionId id,
          EngagementService& engagements)
      : socket_(std::move(socket)),
        raw_socket_(socket_.Get()),
        config_(config),
        engagements_(engagements),
        welcome_(std::move(welcome)),
        dns_(config.dns_servers, config.dns_timeout),
        udp_flows_([this](uint32_t flow, tunnel::UdpReply reply) { SendUdpReply(flow, reply); },
                   config.udp_idle_timeout) {
    peer_.id = id;
    peer_.link = std::make_shared<SessionLink>();
  }

  // Wakes Run() from another thread: the socket stays open until Run() returns.
  void Shutdown() { ::shutdown(raw_socket_, SHUT_RDWR); }
  bool Active() const { return active_.load(); }

  // Tells the client about new subnets now, or as soon as its tunnel runs.
  void PushSubnets(const std::vector<std::string>& subnets) {
    MutexLock lock(connection_mutex_);
    if (connection_) {
      connection_->SendSubnetsChanged(subnets);
    } else {
      subnets_after_welcome_ = subnets;
    }
  }

  void Run() {
    const auto greeting = tunnel::ServerHandshake(socket_.Get(), SecretFor(config_), welcome_,
                                                  Clock::now() + config_.handshake_timeout);
    if (!greeting.accepted) {
      spdlog::warn("tunnel refused: {}", greeting.error);
      return;
    }
    spdlog::info("tunnel from '{}' accepted", greeting.hello.client_name);
    peer_.kind = PeerKindOf(greeting.hello.client_name);
    peer_.name = greeting.hello.client_name;
    tunnel::ConnectionOptions options = config_.connection;
    options.name = "tunnel " + greeting.hello.client_name;
    tunnel::TunnelConnection* connection = nullptr;  // only Run() sets connection_
    {
      // Handlers that run before this ends wait for it in Connection().
      MutexLock lock(connection_mutex_);
      connection_ = tunnel::TunnelConnection::Start(std::move(socket_), tunnel::Role::kServer,
                                                    Handlers(), options);
      connection = connection_.get();
      peer_.link->Attach(connection_.get());
      engagements_.Attach(peer_);
      if (subnets_after_welcome_ && *subnets_after_welcome_ != welcome_.subnets) {
        connection_->SendSubnetsChanged(*subnets_after_welcome_);
      }
    }
    active_.store(true);
    while (!connection->WaitUntilDead(Clock::now() + std::chrono::seconds(1))) {
    }
    active_.store(false);
    engagements_.Detach(peer_);
    udp_flows_.StopAll();
    tasks_.JoinAll();
    peer_.link->Detach();
    // The connection (and the socket Shutdown() uses) lives until the session is destroyed,
    // which is after the manager forgot it.
  }

 private:
  tunnel::TunnelHandlers Handlers() {
    tunnel::TunnelHandlers handlers;
    handlers.on_open_tcp = [this](std::unique_ptr<tunnel::TunnelStream> stream,
                                  const tunnel::OpenTcp& request) {
      if (live_streams_.load() >= kMaxStreamsPerTunnel) {
        stream->Refuse(EMFILE, "too many streams on this tunnel");
        return;
      }
      // std::function needs a copyable callable: the stream travels in a shared_ptr.
      auto owned = std::make_shared<std::unique_ptr<tunnel::TunnelStream>>(std::move(stream));
      auto slot = std::make_shared<CountedSlot>(live_streams_);
      if (peer_.kind == PeerKind::kAgent) {
        tasks_.Spawn([this, owned, request, slot] {
          Connection();  // waits until Run() attached peer_.link
          engagements_.RelayAgentStream(peer_, std::move(*owned), request, &tasks_);
        });
        return;
      }
      tasks_.Spawn([this, owned, request, slot] {
        RelayTcpStream(std::move(*owned), request, config_.connect_timeout);
      });
    };
    handlers.on_request = [this](uint32_t request_id, tunnel::Request request) {
      Connection();  // waits until Run() attached peer_.link
      engagements_.OnRequest(peer_, request_id, request);
    };
    handlers.on_udp_datagram = [this](uint32_t flow, tunnel::UdpDatagram datagram) {
      if (const std::string dropped = udp_flows_.Send(flow, datagram); !dropped.empty()) {
        spdlog::debug("udp flow {}: datagram dropped: {}", flow, dropped);
      }
    };
    handlers.on_dns_query = [this](uint32_t query_id, tunnel::DnsQuery query) {
      if (dns_in_flight_.load() >= kMaxDnsQueriesInFlight) {
        if (tunnel::TunnelConnection* connection = Connection()) {
          connection->SendDnsAnswer(query_id, {EBUSY, {}}, Clock::now() + kDatagramQueueTimeout);
        }
        return;
      }
      auto slot = std::make_shared<CountedSlot>(dns_in_flight_);
      tasks_.Spawn([this, query_id, query = std::move(query), slot] {
        tunnel::DnsAnswer answer = dns_.Forward(query.message);
        if (tunnel::TunnelConnection* connection = Connection()) {
          connection->SendDnsAnswer(query_id, std::move(answer),
                                    Clock::now() + kDatagramQueueTimeout);
        }
      });
    };
    return handlers;
  }

  // The connection once Run() has stored it (handlers may run a moment before that).
  tunnel::TunnelConnection* Connection() {
    MutexLock lock(connection_mutex_);
    return connection_.get();
  }

  void SendUdpReply(uint32_t flow, tunnel::UdpReply& reply) {
    if (tunnel::TunnelConnection* connection = Connection()) {
      connection->SendUdpReply(flow, std::move(reply), Clock::now() + kDatagramQueueTimeout);
    }
  }

  UniqueFd socket_;
  const int raw_socket_;
  const ManagerConfig& config_;
  EngagementService& engagements_;
  Peer peer_;  // set in Run() before the connection starts
  const tunnel::Welcome welcome_;
  const DnsForwarder dns_;
  std::atomic<bool> active_{false};
  std::atomic<int> live_streams_{0};
  std::atomic<int> dns_in_flight_{0};
  Mutex connection_mutex_;
  // Set once by Run(), which uses it without the lock afterwards.
  std::unique_ptr<tunnel::TunnelConnection> connection_ GUARDED_BY(connection_mutex_);
  std::optional<std::vector<std::string>> subnets_after_welcome_ GUARDED_BY(connection_mutex_);
  UdpFlows udp_flows_;
  TaskGroup tasks_;
};

std::unique_ptr<TrafficManager> TrafficManager::Start(ManagerConfig config, std::string& error) {
  TcpListener listener = ListenTcp(config.listen, error);
  if (!listener.socket.Valid()) return nullptr;
  const std::string address = listener.BoundAddress();
  const int port = listener.bound_port;
  std::unique_ptr<TrafficManager> manager(
      new TrafficManager(std::move(config), std::move(listener.socket), address, port));
  if (!manager->stop_event_.Valid()) {
    error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  manager->acceptor_ = std::thread([raw = manager.get()] { raw->AcceptLoop(); });
  return manager;
}

TrafficManager::TrafficManager(ManagerConfig config, UniqueFd listener, std::string address,
                               int port)
    : config_(std::move(config)),
      listener_(std::move(listener)),
      stop_event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      listen_address_(std::move(address)),
      listen_port_(port),
      welcome_(config_.welcome),
      engagements_(EngagementServiceConfig{config_.watch_timeout, config_.connect_timeout}) {}

TrafficManager::~TrafficManager() { Stop(); }

void TrafficManager::Stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  if (::write(stop_event_.Get(), &one, sizeof one) < 0) spdlog::warn("cannot wake the acceptor");
  if (acceptor_.joinable()) acceptor_.join();
  {
    MutexLock lock(sessions_mutex_);
    for (Session* session : sessions_) session->Shutdown();
  }
  session_threads_.JoinAll();
}

size_t TrafficManager::ActiveTunnelCount() const {
  MutexLock lock(sessions_mutex_);
  size_t count = 0;
  for (const Session* session : sessions_) count += session->Active() ? 1 : 0;
  return count;
}

void TrafficManager::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd watched[] = {{listener_.Get(), POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}};
    if (::poll(watched, 2, 1000) <= 0) continue;
    if (watched[1].revents != 0) return;
    UniqueFd connection = AcceptConnection(listener_.Get());
    if (!connection.Valid()) {
      if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED) {
        spdlog::warn("accept: {}", std::strerror(errno));
      }
      continue;
    }
    EnableNoDelay(connection.Get());
    auto owned = std::make_shared<UniqueFd>(std::move(connection));
    if (!session_threads_.Spawn([this, owned] { RunSession(std::move(*owned)); })) {
      spdlog::warn("too many tunnels at once; a connection closed before its handshake");
    }
  }
}

void TrafficManager::UpdateSubnets(std::vector<std::string> subnets) {
  MutexLock lock(sessions_mutex_);
  if (subnets == welcome_.subnets) return;
  spdlog::info("cluster subnets changed: {} subnets", subnets.size());
  welcome_.subnets = std::move(subnets);
  for (Session* session : sessions_) session->PushSubnets(welcome_.subnets);
}

void TrafficManager::RunSession(UniqueFd socket) {
  tunnel::Welcome welcome;
  SessionId id = 0;
  {
    MutexLock lock(sessions_mutex_);
    welcome = welcome_;
    id = next_session_id_++;
  }
  Session session(std::move(socket), config_, std::move(welcome), id, engagements_);
  {
    MutexLock lock(sessions_mutex_);
    if (stopping_.load()) return;
    sessions_.insert(&session);
  }
  session.Run();
  MutexLock lock(sessions_mutex_);
  sessions_.erase(&session);
}

}  // namespace tp::manager
