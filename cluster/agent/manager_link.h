// ManagerLink keeps the agent's tunnel to the traffic-manager: a background thread dials, does
// the handshake as "agent/<workload>", sends `register`, then long-polls `watch` and keeps the
// workload's current engagement. When the tunnel dies it forgets the engagement (connections go
// to the app again) and dials again with a doubling backoff (initial_backoff up to max_backoff).
// Thread-safe; the destructor closes the tunnel and joins within one dial or call slice.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "cluster/agent/engagement.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::agent {

struct ManagerLinkOptions {
  std::string manager_host;
  uint16_t manager_port = 0;
  std::string secret;
  Registration registration;
  std::chrono::milliseconds initial_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds dial_timeout{3000};
  std::chrono::milliseconds call_timeout{5000};
  std::chrono::milliseconds watch_timeout{30000};  // the manager answers within 20 s
};

class ManagerLink {
 public:
  explicit ManagerLink(ManagerLinkOptions options);
  ~ManagerLink();
  ManagerLink(const ManagerLink&) = delete;
  ManagerLink& operator=(const ManagerLink&) = delete;

  // The live, registered tunnel, or nullptr.
  std::shared_ptr<tunnel::TunnelConnection> Current() const;
  // The engagement in force (nullopt: none, or no tunnel).
  std::optional<Engagement> CurrentEngagement() const;
  // Waits until registered (true) or `deadline` passes.
  bool WaitUntilRegistered(tunnel::Deadline deadline) const;
  // Waits until the engagement differs from `known` or `deadline` passes; returns it.
  std::optional<Engagement> WaitForEngagement(const std::optional<Engagement>& known,
                                              tunnel::Deadline deadline) const;

 private:
  void Run();
  // Dials, shakes hands and registers; nullptr (reason logged) on failure.
  std::shared_ptr<tunnel::TunnelConnection> Connect();
  // Watches until the tunnel dies or the link stops.
  void Watch(tunnel::TunnelConnection& connection);
  void SetEngagement(std::optional<Engagement> engagement);
  bool SleepUnlessStopping(std::chrono::milliseconds duration);
  void LogError(const std::string& error);

  const ManagerLinkOptions options_;
  const std::string manager_address_;
  mutable Mutex mutex_;
  mutable CondVar changed_;
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::shared_ptr<tunnel::TunnelConnection> current_ GUARDED_BY(mutex_);     // registered
  std::shared_ptr<tunnel::TunnelConnection> connecting_ GUARDED_BY(mutex_);  // registering
  std::optional<Engagement> engagement_ GUARDED_BY(mutex_);
  std::string last_error_ GUARDED_BY(mutex_);
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace tp::agent
