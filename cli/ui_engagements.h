// The engagements `telepresence ui` starts: each is the engagement command itself (RunEngage,
// exactly as `telepresence replace ... --docker-run -- ...` runs it), on a thread of its own, with
// a StopFlag for its stop request instead of Ctrl-C and this object as its EngagementObserver.
// Its progress goes to the EventHub as `progress` events (action "engage"), its state as
// `engagement` events, its handler container's log as `log` events (docs/ui.md).
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "cli/command_line.h"
#include "cli/engagement_observer.h"
#include "cli/services.h"
#include "cli/stop_source.h"
#include "sync/mutex.h"
#include "webui/event_hub.h"

namespace tp::cli {

class UiEngagement : public EngagementObserver {
 public:
  enum class State { kStarting, kActive, kEnded };

  // `services` is copied and given this engagement's stop flag, observer and quiet handler.
  UiEngagement(std::string context, EngageCommand command, std::string image,
               EnvironmentLookup environment, const CliServices& services, webui::EventHub& events);
  ~UiEngagement() override;  // Leave()s and waits for the thread

  void Start();
  // Waits until it is active or has ended (at most `timeout`); its state then.
  State WaitUntilSettled(std::chrono::milliseconds timeout) EXCLUDES(mutex_);
  // Asks it to end (the handler container stops, the engagement is left, what it made is
  // removed) and waits up to `timeout` for that; true when it ended.
  bool Leave(std::chrono::milliseconds timeout) EXCLUDES(mutex_);

  const std::string& context() const { return context_; }
  std::string id() const EXCLUDES(mutex_);
  State state() const EXCLUDES(mutex_);
  std::string message() const EXCLUDES(mutex_);
  // The page's ENGAGEMENT object (docs/ui.md).
  nlohmann::json ToJson() const EXCLUDES(mutex_);

  void Planned(const EngagementPlan& plan, const api::EngagementGrant& grant) override;
  void Active(const std::string& handler_address) override;

 private:
  void Run();
  void Publish() EXCLUDES(mutex_);

  const std::string context_;
  const EngageCommand command_;
  const std::string image_;
  const EnvironmentLookup environment_;
  CliServices services_;
  webui::EventHub& events_;
  StopFlag stop_;

  mutable Mutex mutex_;
  mutable CondVar changed_;  // with mutex_: state_ changed
  State state_ GUARDED_BY(mutex_) = State::kStarting;
  std::string id_ GUARDED_BY(mutex_);
  std::string container_ GUARDED_BY(mutex_);
  std::string message_ GUARDED_BY(mutex_);   // why it ended
  bool leaving_ GUARDED_BY(mutex_) = false;  // Leave() asked it to end
  std::map<std::string, std::string> env_ GUARDED_BY(mutex_);
  nlohmann::json volumes_ GUARDED_BY(mutex_) = nlohmann::json::array();
  std::unique_ptr<StreamFollow> logs_ GUARDED_BY(mutex_);
  std::thread thread_;
};

// The words of `telepresence MODE WORKLOAD --context C [--port P]... (--docker-run |
// --docker-build DIR) -- DOCKER_ARGS IMAGE|"IMAGE" ARGS`, for ParseCommandLine: the page's engage
// form means exactly what those words mean on the command line. Pure.
std::vector<std::string> EngageWords(const std::string& context, const std::string& mode,
                                     const std::string& workload,
                                     const std::vector<std::string>& ports,
                                     const std::string& image, const std::string& build_folder,
                                     const std::vector<std::string>& docker_args,
                                     const std::vector<std::string>& args);

std::string_view StateName(UiEngagement::State state);

}  // namespace tp::cli
