// TrafficManager is the cluster end of the tunnel: it listens for daemons, authenticates each
// with the shared secret, sends Welcome (subnets, DNS search domains, cluster domain), then for
// every tunnel dials the TCP destinations asked for and relays them, relays UDP flows, and
// forwards DNS queries to the cluster's resolvers. A tunnel whose Hello names "agent/<workload>"
// is a traffic-agent's: agents register their workloads and daemons engage them (see
// engagement_service.h and docs/engagements.md). Each tunnel is independent: one that
// misbehaves (a wrong secret, a malformed frame) is closed while the others keep working.
// Start() returns once it listens; Stop() (or the destructor) closes every tunnel and joins
// every thread. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <string>
#include <thread>

#include "cluster/manager/engagement_service.h"
#include "common/task_group.h"
#include "net/socket_address.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::manager {

struct ManagerConfig {
  std::string listen = "127.0.0.1:0";  // HOST:PORT; port 0 picks one
  std::string secret;                  // what daemons present
  std::string agent_secret;  // what agents ("agent/<workload>") present; "": agents refused
  tunnel::Welcome welcome;
  std::vector<SocketAddress> dns_servers;  // where DNS queries are forwarded
  std::chrono::milliseconds dns_timeout{2000};
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::milliseconds udp_idle_timeout{60000};
  std::chrono::milliseconds watch_timeout{20000};  // an agent's watch is answered by then
  tunnel::ConnectionOptions connection;
};

class Session;

class TrafficManager {
 public:
  // Binds and starts accepting. nullptr with `error` set when it cannot listen.
  static std::unique_ptr<TrafficManager> Start(ManagerConfig config, std::string& error);
  ~TrafficManager();
  TrafficManager(const TrafficManager&) = delete;
  TrafficManager& operator=(const TrafficManager&) = delete;

  // "127.0.0.1:41234"
  const std::string& ListenAddress() const { return listen_address_; }
  int ListenPort() const { return listen_port_; }
  // Closes the listener and every tunnel; returns when every thread has ended. Idempotent.
  void Stop();
  // Tunnels past their handshake and still alive.
  size_t ActiveTunnelCount() const;
  // Announces `subnets` to new tunnels (in Welcome) and pushes them to every live one
  // (SubnetsChanged), if they differ from the current ones.
  void UpdateSubnets(std::vector<std::string> subnets);
  // The agents and engagements (for tests and status).
  EngagementService& engagements() { return engagements_; }

 private:
  TrafficManager(ManagerConfig config, UniqueFd listener, std::string address, int port);
  void AcceptLoop();
  void RunSession(UniqueFd socket);

  const ManagerConfig config_;
  UniqueFd listener_;
  UniqueFd stop_event_;  // eventfd: wakes the accept loop
  const std::string listen_address_;
  const int listen_port_;
  std::atomic<bool> stopping_{false};

  mutable Mutex sessions_mutex_;
  std::set<Session*> sessions_ GUARDED_BY(sessions_mutex_);  // live, registered by RunSession
  tunnel::Welcome welcome_ GUARDED_BY(sessions_mutex_);      // what new tunnels are told
  SessionId next_session_id_ GUARDED_BY(sessions_mutex_) = 1;

  EngagementService engagements_;  // outlives the sessions

  TaskGroup session_threads_;
  std::thread acceptor_;
};

}  // namespace tp::manager
