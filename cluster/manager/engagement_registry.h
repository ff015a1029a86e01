// EngagementRegistry is the traffic-manager's book of agents and engagements, without any I/O:
// which workloads have a live traffic-agent, which daemon session engaged which workload (mode,
// ports, active or not), and the agents' long-poll watches on their workload's engagement. It
// enforces one engagement per workload and words every refusal as a sentence for the user.
// Watch answers run as callbacks, never under the registry's lock, on the thread whose call
// changed what the watcher sees (or on the thread that calls ExpireWatches). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "api/engagement_mode.h"
#include "api/mount_policy.h"
#include "sync/mutex.h"

namespace tp::manager {

// Identifies one tunnel session (an agent's or a daemon's) for as long as the manager runs.
using SessionId = uint64_t;

// What an agent says about its workload when it registers.
struct AgentInfo {
  std::string workload;
  std::string container;
  std::string address;
  std::vector<uint16_t> ports;
  uint16_t sftp_port = 0;
  std::string sftp_token{};  // what its SFTP server asks for; only the engaging daemon is told
  std::map<std::string, std::string> env;
  std::vector<std::string> mounts;
  api::MountPolicies mount_policies{};  // of those of `mounts` that are not Remote
  bool operator==(const AgentInfo&) const = default;
};

struct Engagement {
  std::string id;  // "e-" + hex
  std::string workload;
  api::EngagementMode mode = api::EngagementMode::kReplace;
  std::string name;
  std::vector<uint16_t> ports;  // the engaged workload ports
  bool active = false;
  SessionId daemon = 0;  // the session that made it
  bool operator==(const Engagement&) const = default;
};

struct EngageRequest {
  std::string workload;
  std::string mode;             // as the daemon sent it: checked by Engage
  std::vector<uint16_t> ports;  // may be empty: the defaults of the mode
  std::string name;             // empty: the workload's name
};

// Why a request was refused; the code is a Linux errno value for the Reply frame.
struct Refusal {
  int error_code = 0;
  std::string sentence;
};

struct EngageOutcome {
  std::optional<Refusal> refusal;  // set when refused
  Engagement engagement;
  AgentInfo agent;  // the engaged workload's agent
};

struct WorkloadView {
  AgentInfo agent;
  std::optional<Engagement> engagement;
};

// What a watching agent is told: the version of its workload's state and the active engagement.
struct WatchState {
  uint64_t version = 0;
  std::optional<Engagement> engagement;  // only an active one
};
using WatchAnswer = std::function<void(const WatchState& state)>;

class EngagementRegistry {
 public:
  using Clock = std::chrono::steady_clock;

  explicit EngagementRegistry(std::chrono::milliseconds watch_timeout = std::chrono::seconds(20));

  // The agent of session `agent` serves `info.workload` (a newer agent takes a workload over;
  // its engagement stays). Refused when the info is incomplete.
  std::optional<Refusal> RegisterAgent(SessionId agent, AgentInfo info);
  // The agent's tunnel is gone: its workload leaves the list, its engagement ends, its watches
  // are dropped unanswered.
  void UnregisterAgent(SessionId agent);
  // Every registered workload, by name.
  std::vector<WorkloadView> List() const;

  EngageOutcome Engage(SessionId daemon, const EngageRequest& request);
  // Only the daemon session that made an engagement may activate it or leave it.
  std::optional<Refusal> Activate(SessionId daemon, const std::string& id);
  std::optional<Refusal> Leave(SessionId daemon, const std::string& id);
  // The daemon's tunnel is gone: all its engagements end.
  void EndDaemonSession(SessionId daemon);

  // Answers `answer` at once when the agent's workload state differs from `version`, else when
  // it changes or at now + the watch timeout (see ExpireWatches). Refused for a session that has
  // not registered.
  std::optional<Refusal> Watch(SessionId agent, uint64_t version, WatchAnswer answer,
                               Clock::time_point now = Clock::now());
  // Answers, unchanged, every watch whose time is up.
  void ExpireWatches(Clock::time_point now = Clock::now());
  size_t PendingWatchCount() const;

  // The daemon session to relay a stream of agent `agent` to: the engagement `id` is active, of
  // that agent's workload, and engages `port`. Else a refusal (ECONNREFUSED).
  struct Route {
    std::optional<Refusal> refusal;
    SessionId daemon = 0;
  };
  Route RouteAgentStream(SessionId agent, const std::string& id, uint16_t port) const;

 private:
  struct Workload {
    AgentInfo info;
    SessionId agent = 0;
    uint64_t version = 0;
  };
  struct Watcher {
    SessionId agent = 0;
    std::string workload;
    uint64_t version = 0;
    Clock::time_point deadline;
    WatchAnswer answer;
  };
  using Answers = std::vector<std::function<void()>>;

  const Engagement* EngagementOfLocked(const std::string& workload) const REQUIRES(mutex_);
  WatchState StateLocked(const std::string& workload) const REQUIRES(mutex_);
  // The workload's state as its agent sees it changed: new version, due watchers collected.
  void ChangedLocked(const std::string& workload, Answers& answers) REQUIRES(mutex_);
  // Removes engagement `id` (an iterator into engagements_), collecting watch answers.
  void EndLocked(std::map<std::string, Engagement>::iterator engagement, Answers& answers)
      REQUIRES(mutex_);
  std::string NewEngagementIdLocked() REQUIRES(mutex_);
  std::optional<Refusal> CheckPortsLocked(const AgentInfo& agent,
                                          const std::vector<uint16_t>& ports) const
      REQUIRES(mutex_);
  static void Run(Answers& answers);

  const std::chrono::milliseconds watch_timeout_;
  mutable Mutex mutex_;
  std::map<std::string, Workload> workloads_ GUARDED_BY(mutex_);      // by workload name
  std::map<std::string, Engagement> engagements_ GUARDED_BY(mutex_);  // by id
  std::vector<Watcher> watchers_ GUARDED_BY(mutex_);
  uint64_t last_version_ GUARDED_BY(mutex_) = 0;
  std::mt19937_64 random_ GUARDED_BY(mutex_);
};

// "8080, 9090"
std::string JoinPorts(const std::vector<uint16_t>& ports);

}  // namespace tp::manager
