// ConnectionGate is a public TCP listener in front of a server that listens on a Unix socket only
// (the control API's cpp-httplib server, which can neither refuse a connection nor bound a
// request's total time). The gate accepts every connection itself and
//   * keeps at most `max_connections` open, and at most `max_per_peer` from one address (so a
//     neighbour container cannot take every slot from the host's CLI): one past either cap is
//     closed at once, unread, and a warning is logged (at most one a second, counting the
//     others);
//   * gives each connection a total deadline from its accept: then both sides are closed,
//     whatever the client is doing (sending slowly, reading slowly, idle on keep-alive);
//   * relays the bytes both ways between the client and a new connection to the Unix socket,
//     passing a client's end of sending on (shutdown) and ending when the server closes.
// Start() returns once the TCP socket listens. BeginStop() stops accepting; each relayed
// connection then takes nothing more from its client but still delivers what the server answers
// until the server closes it, for up to a second (so the reply to the request that stopped the
// daemon gets out while its server stops). Stop() (or the destructor) returns once the gate's
// threads have ended. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "common/task_group.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct ConnectionGateOptions {
  std::string name = "gate";  // for the log: "control API"
  size_t max_connections = 32;
  std::chrono::milliseconds deadline{15000};  // from accept to close, per connection
  size_t max_per_peer = 32;                   // open connections from one peer address
};

class ConnectionGate {
 public:
  // Listens on `host`:`port` (numeric; port 0 picks one) and relays to the Unix socket at
  // `unix_path`, which need not accept yet (a connection is closed when it cannot reach it).
  // nullptr with `error` set when the TCP socket cannot be bound.
  static std::unique_ptr<ConnectionGate> Start(const std::string& host, uint16_t port,
                                               std::string unix_path, ConnectionGateOptions options,
                                               std::string& error);
  ~ConnectionGate();
  ConnectionGate(const ConnectionGate&) = delete;
  ConnectionGate& operator=(const ConnectionGate&) = delete;

  uint16_t Port() const { return port_; }
  // Stops accepting; each connection takes nothing more from its client and ends when the
  // server closes it or a second has passed. Returns at once; idempotent.
  void BeginStop();
  // BeginStop(), then joins the threads (within about a second). Idempotent.
  void Stop();

 private:
  using Clock = std::chrono::steady_clock;

  ConnectionGate(UniqueFd listener, UniqueFd stop_event, uint16_t port, std::string unix_path,
                 ConnectionGateOptions options);
  void AcceptLoop();
  // Closes `client` (one past the cap), warning at most once a second.
  void Refuse(UniqueFd client);
  void Relay(UniqueFd client, Clock::time_point deadline) const;
  // Counts a connection from `peer` in; false (nothing counted) when that peer is at its cap.
  bool AdmitPeer(const std::string& peer);
  void ReleasePeer(const std::string& peer);

  const UniqueFd listener_;
  const UniqueFd stop_event_;  // an eventfd, readable once Stop() has begun
  const uint16_t port_;
  const std::string unix_path_;
  const ConnectionGateOptions options_;
  // Used by the accept thread only.
  Clock::time_point last_warning_{};
  size_t refused_since_warning_ = 0;
  Mutex peers_mutex_;
  std::map<std::string, size_t> open_by_peer_ GUARDED_BY(peers_mutex_);
  TaskGroup relays_;
  std::atomic<bool> stopping_{false};
  Mutex join_mutex_;  // one Stop() joins at a time
  std::thread accept_thread_;
};

}  // namespace tp::daemon
