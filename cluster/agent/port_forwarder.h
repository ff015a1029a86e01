// PortForwarder listens on the pod's address on every workload port and hands each connection
// to the app or to the engagement's handler, as RouteFor says at the moment it arrives:
//  * forward: dial app_address:P and relay (a refused dial resets the client);
//  * engage: open the stream "engagement/<id>":P through the manager's tunnel and relay at once,
//    the client's first bytes travelling before the open is answered (no tunnel or a refused
//    stream resets the client);
//  * wiretap: forward, and copy the client's bytes to such a stream (WiretapCopy).
// One thread per listener and per connection; the destructor stops them all (live connections
// are reset) and joins.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cluster/agent/engagement.h"
#include "common/task_group.h"
#include "net/unique_fd.h"
#include "tunnel/tunnel_connection.h"

namespace tp::agent {

// Where connections go: the engagement in force and the tunnel to open streams on.
struct RouteSource {
  std::function<std::optional<Engagement>()> engagement;
  std::function<std::shared_ptr<tunnel::TunnelConnection>()> tunnel;
};

struct PortForwarderOptions {
  std::string listen_address;   // the pod's address
  std::string listen_address6;  // its IPv6 address on a dual-stack pod; "": none
  std::vector<uint16_t> ports;
  std::string app_address = "127.0.0.1";
  // The app's port for workload port P (tests map them; the agent uses P itself).
  std::function<uint16_t(uint16_t)> app_port = [](uint16_t port) { return port; };
  std::chrono::milliseconds dial_timeout{5000};
  std::chrono::milliseconds open_timeout{10000};
};

class PortForwarder {
 public:
  // Binds every port; nullptr with `error` set when one cannot be bound.
  static std::unique_ptr<PortForwarder> Start(PortForwarderOptions options, RouteSource routes,
                                              std::string& error);
  ~PortForwarder();
  PortForwarder(const PortForwarder&) = delete;
  PortForwarder& operator=(const PortForwarder&) = delete;

  // The bound port of listener i (the workload port unless 0 was asked for).
  uint16_t BoundPort(size_t i) const { return listeners_[i].bound_port; }

 private:
  struct Listener {
    UniqueFd socket;
    std::string address;
    uint16_t workload_port = 0;
    uint16_t bound_port = 0;
  };
  PortForwarder(PortForwarderOptions options, RouteSource routes);
  void AcceptLoop(const Listener& listener);
  void Serve(UniqueFd client, uint16_t workload_port);
  void Forward(UniqueFd client, uint16_t workload_port, const std::optional<Engagement>& tap);
  void Engage(UniqueFd client, uint16_t workload_port, const Engagement& engagement);

  const PortForwarderOptions options_;
  const RouteSource routes_;
  std::vector<Listener> listeners_;
  std::atomic<bool> stopping_{false};
  TaskGroup tasks_;  // last: joined first
};

}  // namespace tp::agent
