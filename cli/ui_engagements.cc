#include "cli/ui_engagements.h"

#include <utility>

#include "cli/commands.h"
#include "cli/engagement_plan.h"
#include "cli/ui_progress.h"

namespace tp::cli {
namespace {

using nlohmann::json;

// The engagement's own stop flag as the StopSource of its command.
class StopFlagView : public StopSource {
 public:
  explicit StopFlagView(const StopFlag& flag) : flag_(flag) {}
  bool WaitFor(std::chrono::milliseconds timeout) const override { return flag_.WaitFor(timeout); }

 private:
  const StopFlag& flag_;
};

}  // namespace

std::string_view StateName(UiEngagement::State state) {
  switch (state) {
    case UiEngagement::State::kStarting:
      return "starting";
    case UiEngagement::State::kActive:
      return "active";
    case UiEngagement::State::kEnded:
      return "ended";
  }
  return "ended";
}

std::vector<std::string> EngageWords(const std::string& context, const std::string& mode,
                                     const std::string& workload,
                                     const std::vector<std::string>& ports,
                                     const std::string& image, const std::string& build_folder,
                                     const std::vector<std::string>& docker_args,
                                     const std::vector<std::string>& args) {
  std::vector<std::string> words = {mode, workload, "--context", context};
  for (const std::string& port : ports) {
    words.push_back("--port");
    words.push_back(port);
  }
  if (build_folder.empty()) {
    words.push_back("--docker-run");
  } else {
    words.push_back("--docker-build");
    words.push_back(build_folder);
  }
  words.push_back("--");
  words.insert(words.end(), docker_args.begin(), docker_args.end());
  words.push_back(build_folder.empty() ? image : "IMAGE");
  words.insert(words.end(), args.begin(), args.end());
  return words;
}

UiEngagement::UiEngagement(std::string context, EngageCommand command, std::string image,
                           EnvironmentLookup environment, const CliServices& services,
                           webui::EventHub& events)
    : context_(std::move(context)),
      command_(std::move(command)),
      image_(std::move(image)),
      environment_(std::move(environment)),
      services_(services),
      events_(events) {
  services_.stop_source = [this] { return std::make_unique<StopFlagView>(stop_); };
  // The handler's docker run writes to this process's stderr; the page reads its log.
  services_.handler_streams = ChildStreams::kStdoutToStderr;
  services_.engagement_observer = this;
}

UiEngagement::~UiEngagement() {
  Leave(std::chrono::milliseconds(0));
  if (thread_.joinable()) thread_.join();
}

void UiEngagement::Start() {
  Publish();
  thread_ = std::thread([this] { Run(); });
}

void UiEngagement::Run() {
  const ProgressRun run = RunWithProgress("engage", events_, environment_, [this](const CliIo& io) {
    return RunEngage(command_, io, services_);
  });
  std::unique_ptr<StreamFollow> logs;
  {
    MutexLock lock(mutex_);
    state_ = State::kEnded;
    // The command's own last word when it failed, else how the handler's docker run ended.
    if (leaving_) {
      message_ = "left from the page";
    } else if (IsFailLine(run.last_line)) {
      message_ = FailSentence(run.last_line);
    } else {
      message_ = "the handler container " + container_ + " ended (exit code " +
                 std::to_string(run.exit_code) + ")";
    }
    logs = std::move(logs_);
    changed_.NotifyAll();
  }
  logs.reset();  // stops following (outside the lock: it waits for its thread)
  Publish();
}

void UiEngagement::Planned(const EngagementPlan& plan, const api::EngagementGrant& grant) {
  {
    MutexLock lock(mutex_);
    id_ = grant.id;
    container_ = plan.container;
    env_ = grant.env;
    volumes_ = json::array();
    for (const PlannedVolume& volume : plan.volumes) {
      volumes_.push_back({{"name", volume.spec.name}, {"path", volume.mount_path}});
    }
  }
  Publish();
}

void UiEngagement::Active(const std::string&) {
  std::string container;
  {
    MutexLock lock(mutex_);
    container = container_;
  }
  Result<std::unique_ptr<StreamFollow>> logs =
      services_.docker.FollowLogs(container, [this, container](std::string_view line) {
        events_.Publish("log", {{"container", container}, {"line", line}});
      });
  {
    MutexLock lock(mutex_);
    state_ = State::kActive;
    if (logs.ok()) logs_ = std::move(logs).value();
    changed_.NotifyAll();
  }
  Publish();
}

UiEngagement::State UiEngagement::WaitUntilSettled(std::chrono::milliseconds timeout) {
  MutexLock lock(mutex_);
  changed_.WaitFor(mutex_, timeout,
                   [this]() REQUIRES(mutex_) { return state_ != State::kStarting; });
  return state_;
}

bool UiEngagement::Leave(std::chrono::milliseconds timeout) {
  MutexLock lock(mutex_);
  if (state_ != State::kEnded && !leaving_) {
    leaving_ = true;
    stop_.Request();
  }
  return changed_.WaitFor(mutex_, timeout,
                          [this]() REQUIRES(mutex_) { return state_ == State::kEnded; });
}

std::string UiEngagement::id() const {
  MutexLock lock(mutex_);
  return id_;
}

UiEngagement::State UiEngagement::state() const {
  MutexLock lock(mutex_);
  return state_;
}

std::string UiEngagement::message() const {
  MutexLock lock(mutex_);
  return message_;
}

json UiEngagement::ToJson() const {
  MutexLock lock(mutex_);
  return {{"id", id_},
          {"context", context_},
          {"workload", command_.workload},
          {"mode", EngagementModeName(command_.mode)},
          {"container", container_},
          {"image", image_},
          {"state", StateName(state_)},
          {"message", message_},
          {"env", env_},
          {"volumes", volumes_}};
}

void UiEngagement::Publish() { events_.Publish("engagement", ToJson()); }

}  // namespace tp::cli
