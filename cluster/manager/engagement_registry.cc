#include "cluster/manager/engagement_registry.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "sync/mutex.h"

namespace tp::manager {
namespace {

bool Contains(const std::vector<uint16_t>& ports, uint16_t port) {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

// The ports an engagement of `mode` takes, from the workload's and the user's choice.
std::vector<uint16_t> EngagedPorts(api::EngagementMode mode, const std::vector<uint16_t>& workload,
                                   const std::vector<uint16_t>& chosen) {
  if (mode == api::EngagementMode::kReplace) return workload;
  if (mode == api::EngagementMode::kIngest) return {};
  if (chosen.empty()) return {workload.front()};
  std::vector<uint16_t> ports;
  for (const uint16_t port : chosen) {
    if (!Contains(ports, port)) ports.push_back(port);
  }
  return ports;
}

Refusal Refuse(int error_code, std::string sentence) { return {error_code, std::move(sentence)}; }

}  // namespace

std::string JoinPorts(const std::vector<uint16_t>& ports) {
  std::string joined;
  for (const uint16_t port : ports) {
    if (!joined.empty()) joined += ", ";
    joined += std::to_string(port);
  }
  return joined;
}

EngagementRegistry::EngagementRegistry(std::chrono::milliseconds watch_timeout)
    : watch_timeout_(watch_timeout), random_(std::random_device{}()) {}

std::optional<Refusal> EngagementRegistry::RegisterAgent(SessionId agent, AgentInfo info) {
  if (info.workload.empty()) return Refuse(EINVAL, "register needs a workload name");
  if (info.ports.empty()) {
    return Refuse(EINVAL, "workload " + info.workload + " registers no port");
  }
  Answers answers;
  {
    MutexLock lock(mutex_);
    // A live agent's workload is not taken over: another agent may register it once that one's
    // tunnel has ended (UnregisterAgent), e.g. a restarted agent after its old tunnel is found
    // dead.
    auto existing = workloads_.find(info.workload);
    if (existing != workloads_.end() && existing->second.agent != agent) {
      return Refuse(EEXIST, "workload " + info.workload +
                                " has a traffic-agent already, which is still connected; another "
                                "one may register it when that one's tunnel ends");
    }
    // One session serves one workload: a re-registration under another name moves it.
    for (auto it = workloads_.begin(); it != workloads_.end(); ++it) {
      if (it->second.agent == agent && it->first != info.workload) {
        workloads_.erase(it);
        break;
      }
    }
    Workload& workload = workloads_[info.workload];
    workload.agent = agent;
    workload.info = std::move(info);
    if (workload.version == 0) workload.version = ++last_version_;
  }
  Run(answers);
  return std::nullopt;
}

void EngagementRegistry::UnregisterAgent(SessionId agent) {
  Answers answers;
  {
    MutexLock lock(mutex_);
    std::erase_if(watchers_, [&](const Watcher& watcher) { return watcher.agent == agent; });
    for (auto it = workloads_.begin(); it != workloads_.end(); ++it) {
      if (it->second.agent != agent) continue;
      const std::string name = it->first;
      workloads_.erase(it);
      for (auto engagement = engagements_.begin(); engagement != engagements_.end();) {
        auto next = std::next(engagement);
        if (engagement->second.workload == name) EndLocked(engagement, answers);
        engagement = next;
      }
      break;
    }
  }
  Run(answers);
}

std::vector<WorkloadView> EngagementRegistry::List() const {
  MutexLock lock(mutex_);
  std::vector<WorkloadView> views;
  for (const auto& [name, workload] : workloads_) {
    WorkloadView view{workload.info, std::nullopt};
    if (const Engagement* engagement = EngagementOfLocked(name)) view.engagement = *engagement;
    views.push_back(std::move(view));
  }
  return views;
}

EngageOutcome EngagementRegistry::Engage(SessionId daemon, const EngageRequest& request) {
  EngageOutcome outcome;
  const std::optional<api::EngagementMode> mode = api::ParseEngagementMode(request.mode);
  if (!mode) {
    outcome.refusal =
        Refuse(EINVAL, "mode \"" + request.mode + "\" is not one of " + api::EngagementModeNames());
    return outcome;
  }
  MutexLock lock(mutex_);
  const auto found = workloads_.find(request.workload);
  if (found == workloads_.end()) {
    outcome.refusal = Refuse(ENOENT, "no workload named " + request.workload +
                                         " has a traffic-agent; `telepresence list` shows "
                                         "those that do");
    return outcome;
  }
  const AgentInfo& agent = found->second.info;
  if (auto refusal = CheckPortsLocked(agent, request.ports)) {
    outcome.refusal = std::move(refusal);
    return outcome;
  }
  if (const Engagement* engaged = EngagementOfLocked(request.workload)) {
    outcome.refusal =
        Refuse(EBUSY, "workload " + request.workload + " is already engaged by " + engaged->name +
                          " (" + std::string(api::EngagementModeName(engaged->mode)) +
                          "); `telepresence leave " + engaged->name + "` first");
    return outcome;
  }
  Engagement engagement;
  engagement.id = NewEngagementIdLocked();
  engagement.workload = request.workload;
  engagement.mode = *mode;
  engagement.name = request.name.empty() ? request.workload : request.name;
  engagement.ports = EngagedPorts(*mode, agent.ports, request.ports);
  engagement.daemon = daemon;
  engagements_.emplace(engagement.id, engagement);
  outcome.engagement = std::move(engagement);
  outcome.agent = agent;
  return outcome;
}

std::optional<Refusal> EngagementRegistry::Activate(SessionId daemon, const std::string& id) {
  Answers answers;
  {
    MutexLock lock(mutex_);
    const auto found = engagements_.find(id);
    if (found == engagements_.end() || found->second.daemon != daemon) {
      return Refuse(ENOENT, "no engagement " + id + " of this daemon");
    }
    if (found->second.active) return std::nullopt;
    found->second.active = true;
    ChangedLocked(found->second.workload, answers);
  }
  Run(answers);
  return std::nullopt;
}

std::optional<Refusal> EngagementRegistry::Leave(SessionId daemon, const std::string& id) {
  Answers answers;
  {
    MutexLock lock(mutex_);
    const auto found = engagements_.find(id);
    if (found == engagements_.end() || found->second.daemon != daemon) {
      return Refuse(ENOENT, "no engagement " + id + " of this daemon");
    }
    EndLocked(found, answers);
  }
  Run(answers);
  return std::nullopt;
}

void EngagementRegistry::EndDaemonSession(SessionId daemon) {
  Answers answers;
  {
    MutexLock lock(mutex_);
    for (auto it = engagements_.begin(); it != engagements_.end();) {
      auto next = std::next(it);
      if (it->second.daemon == daemon) EndLocked(it, answers);
      it = next;
    }
  }
  Run(answers);
}

std::optional<Refusal> EngagementRegistry::Watch(SessionId agent, uint64_t version,
                                                 WatchAnswer answer, Clock::time_point now) {
  WatchState state;
  {
    MutexLock lock(mutex_);
    const auto found = std::find_if(workloads_.begin(), workloads_.end(),
                                    [&](const auto& entry) { return entry.second.agent == agent; });
    if (found == workloads_.end()) return Refuse(EINVAL, "register before watching");
    state = StateLocked(found->first);
    if (state.version == version) {
      watchers_.push_back({agent, found->first, version, now + watch_timeout_, std::move(answer)});
      return std::nullopt;
    }
  }
  answer(state);
  return std::nullopt;
}

void EngagementRegistry::ExpireWatches(Clock::time_point now) {
  Answers answers;
  {
    MutexLock lock(mutex_);
    for (auto it = watchers_.begin(); it != watchers_.end();) {
      if (it->deadline > now) {
        ++it;
        continue;
      }
      answers.push_back(
          [answer = std::move(it->answer), state = StateLocked(it->workload)] { answer(state); });
      it = watchers_.erase(it);
    }
  }
  Run(answers);
}

size_t EngagementRegistry::PendingWatchCount() const {
  MutexLock lock(mutex_);
  return watchers_.size();
}

EngagementRegistry::Route EngagementRegistry::RouteAgentStream(SessionId agent,
                                                               const std::string& id,
                                                               uint16_t port) const {
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found == engagements_.end() || !found->second.active) {
    return {Refuse(ECONNREFUSED, "no active engagement " + id), 0};
  }
  const Engagement& engagement = found->second;
  const auto workload = workloads_.find(engagement.workload);
  if (workload == workloads_.end() || workload->second.agent != agent) {
    return {Refuse(ECONNREFUSED, "engagement " + id + " is not of this agent's workload"), 0};
  }
  if (!Contains(engagement.ports, port)) {
    return {
        Refuse(ECONNREFUSED, "engagement " + id + " does not engage port " + std::to_string(port)),
        0};
  }
  return {std::nullopt, engagement.daemon};
}

const Engagement* EngagementRegistry::EngagementOfLocked(const std::string& workload) const {
  for (const auto& [id, engagement] : engagements_) {
    if (engagement.workload == workload) return &engagement;
  }
  return nullptr;
}

WatchState EngagementRegistry::StateLocked(const std::string& workload) const {
  WatchState state;
  const auto found = workloads_.find(workload);
  if (found != workloads_.end()) state.version = found->second.version;
  const Engagement* engagement = EngagementOfLocked(workload);
  if (engagement != nullptr && engagement->active) state.engagement = *engagement;
  return state;
}

void EngagementRegistry::ChangedLocked(const std::string& workload, Answers& answers) {
  const auto found = workloads_.find(workload);
  if (found == workloads_.end()) return;
  found->second.version = ++last_version_;
  const WatchState state = StateLocked(workload);
  for (auto it = watchers_.begin(); it != watchers_.end();) {
    if (it->workload != workload) {
      ++it;
      continue;
    }
    answers.push_back([answer = std::move(it->answer), state] { answer(state); });
    it = watchers_.erase(it);
  }
}

void EngagementRegistry::EndLocked(std::map<std::string, Engagement>::iterator engagement,
                                   Answers& answers) {
  const bool was_active = engagement->second.active;
  const std::string workload = engagement->second.workload;
  engagements_.erase(engagement);
  if (was_active) ChangedLocked(workload, answers);
}

std::string EngagementRegistry::NewEngagementIdLocked() {
  while (true) {
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(random_()));
    std::string id = std::string("e-") + hex;
    if (!engagements_.contains(id)) return id;
  }
}

std::optional<Refusal> EngagementRegistry::CheckPortsLocked(
    const AgentInfo& agent, const std::vector<uint16_t>& ports) const {
  for (const uint16_t port : ports) {
    if (Contains(agent.ports, port)) continue;
    return Refuse(EINVAL, "workload " + agent.workload + " has no port " + std::to_string(port) +
                              "; its ports are " + JoinPorts(agent.ports));
  }
  return std::nullopt;
}

void EngagementRegistry::Run(Answers& answers) {
  for (auto& answer : answers) answer();
}

}  // namespace tp::manager
