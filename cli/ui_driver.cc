#include "cli/ui_driver.h"

#include <utility>

#include "cli/commands.h"
#include "cli/teleroute_network.h"
#include "cli/ui_progress.h"
#include "cli/validation.h"

namespace tp::cli {
namespace {

using nlohmann::json;
using webui::ErrorReply;
using webui::UiReply;

// How long POST /api/engagements waits for the engagement to become active (a build may be
// long); after that it answers 202 and the page follows the `engagement` events.
constexpr std::chrono::minutes kEngageWait{10};
// How long leaving may take: the handler's stop (docker stop's grace), the daemon, the volumes.
constexpr std::chrono::milliseconds kLeaveWait{60000};

std::optional<UiReply> RefuseBadContext(const std::string& context) {
  if (IsValidContextName(context)) return std::nullopt;
  return ErrorReply(400, "\"" + context +
                             "\" is not a context name: use letters, digits, '-' and '_' "
                             "(telepresence's contexts are the files of its contexts folder)");
}

}  // namespace

CliUiDriver::CliUiDriver(EnvironmentLookup environment, CliServices& services,
                         webui::EventHub& events, std::string default_context)
    : environment_(std::move(environment)),
      services_(services),
      events_(events),
      default_context_(std::move(default_context)) {}

CliUiDriver::Outcome CliUiDriver::RunCommand(std::string_view action,
                                             const std::function<int(const CliIo&)>& command) {
  ProgressRun run = RunWithProgress(action, events_, environment_, command);
  return Outcome{.exit_code = run.exit_code,
                 .out = std::move(run.out),
                 .error = run.exit_code == kExitOk ? "" : FailSentence(run.last_line)};
}

UiReply CliUiDriver::JsonReply(const Outcome& outcome) {
  if (outcome.exit_code != kExitOk) return ErrorReply(500, outcome.error);
  json body = json::parse(outcome.out, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded())
    return ErrorReply(500, "the command's output is not JSON: " + outcome.out);
  return UiReply{200, std::move(body)};
}

bool CliUiDriver::BeginAction(const std::string& context) {
  MutexLock lock(mutex_);
  return busy_contexts_.insert(context).second;
}

void CliUiDriver::EndAction(const std::string& context) {
  MutexLock lock(mutex_);
  busy_contexts_.erase(context);
}

UiReply CliUiDriver::Contexts() {
  UiReply reply = JsonReply(RunCommand("contexts", [&](const CliIo& io) {
    return RunContexts(ContextsCommand{.output = OutputFormat::kJson}, io);
  }));
  if (reply.status == 200) reply.body["default"] = default_context_;
  return reply;
}

UiReply CliUiDriver::Status(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  UiReply reply = JsonReply(RunCommand("status", [&](const CliIo& io) {
    return RunStatus(StatusCommand{.context_name = context, .output = OutputFormat::kJson}, io,
                     services_);
  }));
  if (reply.status == 200) return reply;
  // No status to read right now (a daemon starting or stopping, Docker away): not connected, and
  // why, for the page to show; `telepresence status` says the same as an error.
  return UiReply{200,
                 {{"connected", false},
                  {"context", context},
                  {"container", DaemonContainerName(context)},
                  {"error", reply.body.value("error", std::string("no status"))}}};
}

UiReply CliUiDriver::PublishStatus(const std::string& context) {
  UiReply status = Status(context);
  if (status.status == 200)
    events_.Publish("status", {{"context", context}, {"status", status.body}});
  return status;
}

UiReply CliUiDriver::Connect(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  if (!BeginAction(context)) {
    return ErrorReply(409, "another action runs on context " + context + "; wait for it to end");
  }
  Outcome outcome = RunCommand("connect", [&](const CliIo& io) {
    return RunConnect(ConnectCommand{.context_name = context}, io, services_);
  });
  EndAction(context);
  if (outcome.exit_code != kExitOk) {
    PublishStatus(context);
    return ErrorReply(500, outcome.error);
  }
  return PublishStatus(context);
}

UiReply CliUiDriver::Quit(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  if (!BeginAction(context)) {
    return ErrorReply(409, "another action runs on context " + context + "; wait for it to end");
  }
  LeaveAll(context);
  Outcome outcome = RunCommand("quit", [&](const CliIo& io) {
    return RunQuit(QuitCommand{.context_name = context}, io, services_);
  });
  EndAction(context);
  PublishStatus(context);
  if (outcome.exit_code != kExitOk) return ErrorReply(500, outcome.error);
  return UiReply{};
}

UiReply CliUiDriver::Workloads(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  Outcome outcome = RunCommand("list", [&](const CliIo& io) {
    return RunList(ListCommand{.context_name = context, .output = OutputFormat::kJson}, io,
                   services_);
  });
  if (outcome.exit_code != kExitOk) return ErrorReply(409, outcome.error);
  return JsonReply(outcome);
}

UiReply CliUiDriver::Images() {
  Result<std::vector<std::string>> tags = services_.docker.ListImageTags();
  if (!tags.ok()) return ErrorReply(500, tags.error().message);
  return UiReply{200, {{"images", tags.value()}}};
}

UiReply CliUiDriver::Engage(const webui::EngageForm& form) {
  if (auto refused = RefuseBadContext(form.context)) return *refused;
  const std::vector<std::string> words =
      EngageWords(form.context, form.mode, form.workload, form.ports, form.image, form.build_folder,
                  form.docker_args, form.args);
  Result<CommandLine> parsed = ParseCommandLine(words);
  if (!parsed.ok()) return ErrorReply(400, parsed.error().message);
  const EngageCommand* command = std::get_if<EngageCommand>(&parsed.value().command);
  if (command == nullptr)
    return ErrorReply(400, "\"" + form.workload + "\" is not a workload name");
  auto engagement = std::make_shared<UiEngagement>(
      form.context, *command,
      form.build_folder.empty() ? form.image : "built from " + form.build_folder, environment_,
      services_, events_);
  {
    MutexLock lock(mutex_);
    if (closing_) return ErrorReply(503, "telepresence ui is stopping; start it again to engage");
    std::erase_if(engagements_,
                  [](const auto& kept) { return kept->state() == UiEngagement::State::kEnded; });
    engagements_.push_back(engagement);
  }
  engagement->Start();
  const UiEngagement::State state = engagement->WaitUntilSettled(kEngageWait);
  if (state == UiEngagement::State::kEnded) return ErrorReply(500, engagement->message());
  return UiReply{state == UiEngagement::State::kActive ? 201 : 202, engagement->ToJson()};
}

UiReply CliUiDriver::Engagements(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  std::vector<std::shared_ptr<UiEngagement>> engagements;
  {
    MutexLock lock(mutex_);
    engagements = engagements_;
  }
  json list = json::array();
  for (const auto& engagement : engagements) {
    if (engagement->context() == context) list.push_back(engagement->ToJson());
  }
  return UiReply{200, {{"engagements", std::move(list)}}};
}

std::shared_ptr<UiEngagement> CliUiDriver::FindEngagement(const std::string& context,
                                                          const std::string& id) {
  MutexLock lock(mutex_);
  for (const auto& engagement : engagements_) {
    if (engagement->context() == context && engagement->id() == id) return engagement;
  }
  return nullptr;
}

UiReply CliUiDriver::Leave(const std::string& context, const std::string& engagement_id) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  std::shared_ptr<UiEngagement> engagement = FindEngagement(context, engagement_id);
  if (!engagement) {
    return ErrorReply(404, "no engagement " + engagement_id + " of context " + context +
                               " was started by this page (telepresence leave NAME ends others)");
  }
  if (!engagement->Leave(kLeaveWait)) {
    return ErrorReply(500, "the engagement " + engagement_id + " did not end within " +
                               std::to_string(kLeaveWait.count() / 1000) +
                               " s; see the terminal of telepresence ui");
  }
  return UiReply{200, engagement->ToJson()};
}

void CliUiDriver::LeaveAll(const std::string& context) {
  std::vector<std::shared_ptr<UiEngagement>> engagements;
  {
    MutexLock lock(mutex_);
    engagements = engagements_;
  }
  for (const auto& engagement : engagements) {
    if (context.empty() || engagement->context() == context) engagement->Leave(kLeaveWait);
  }
}

namespace {

// The context whose daemon container or Teleroute network an event is about, or "".
std::string ContextOfDaemonEvent(const docker::EngineEvent& event) {
  auto attribute = [&event](const std::string& key) {
    auto found = event.attributes.find(key);
    return found == event.attributes.end() ? std::string() : found->second;
  };
  const std::string name = attribute("name");
  if (event.type == "container") {
    const std::string context = attribute(std::string(kDaemonLabel));
    return !context.empty() && name == DaemonContainerName(context) ? context : "";
  }
  constexpr std::string_view kNetworkPrefix = "tp-";
  if (event.type != "network" || name.rfind(kNetworkPrefix, 0) != 0) return "";
  const std::string context = name.substr(kNetworkPrefix.size());
  return IsValidContextName(context) && TelerouteNetworkName(context) == name ? context : "";
}

}  // namespace

void CliUiDriver::WatchDaemons() {
  Result<std::unique_ptr<StreamFollow>> events = services_.docker.FollowEvents(
      {{"type", {"container", "network"}},
       {"event", {"start", "die", "destroy", "connect", "disconnect"}}},
      [this](const docker::EngineEvent& event) {
        const std::string context = ContextOfDaemonEvent(event);
        if (!context.empty()) PublishStatus(context);
      });
  // Without the events the page still gets the status after its own actions and on reload.
  if (events.ok()) daemon_events_ = std::move(events).value();
}

void CliUiDriver::Shutdown() {
  {
    MutexLock lock(mutex_);
    closing_ = true;
  }
  daemon_events_.reset();
  LeaveAll("");
  std::vector<std::string> containers;
  {
    MutexLock lock(mutex_);
    for (const auto& [name, logs] : containers_) containers.push_back(name);
  }
  for (const std::string& name : containers) StopContainer(name);
}

UiReply CliUiDriver::DockerRun(const webui::DockerRunForm& form) {
  if (auto refused = RefuseBadContext(form.context)) return *refused;
  // Detached, and labelled like a handler so that `telepresence quit` removes it with the daemon.
  std::vector<std::string> words = {"--detach", "--label",
                                    std::string(kDaemonLabel) + "=" + form.context};
  words.insert(words.end(), form.docker_args.begin(), form.docker_args.end());
  words.push_back(form.image);
  words.insert(words.end(), form.args.begin(), form.args.end());
  {
    MutexLock lock(mutex_);
    if (closing_) return ErrorReply(503, "telepresence ui is stopping; start it again to run one");
  }
  Result<Argv> argv = DockerRunOnNetworkArgv(form.context, words, services_);
  if (!argv.ok()) return ErrorReply(409, argv.error().message);
  Result<std::string> id = services_.docker.RunDetachedArgv(argv.value());
  if (!id.ok()) return ErrorReply(500, id.error().message);
  const std::string name = id.value().substr(0, 12);
  Result<std::unique_ptr<StreamFollow>> logs =
      services_.docker.FollowLogs(name, [this, name](std::string_view line) {
        events_.Publish("log", {{"container", name}, {"line", line}});
      });
  bool closing = false;
  {
    MutexLock lock(mutex_);
    closing = closing_;
    if (!closing) containers_[name] = logs.ok() ? std::move(logs).value() : nullptr;
  }
  if (closing) {  // Shutdown() began meanwhile and may have missed it
    (void)services_.docker.Remove(DockerResource::kContainer, {name});
    return ErrorReply(503, "telepresence ui is stopping; the container was removed again");
  }
  return UiReply{201, {{"container", name}}};
}

UiReply CliUiDriver::StopContainer(const std::string& container) {
  std::unique_ptr<StreamFollow> logs;
  {
    MutexLock lock(mutex_);
    auto found = containers_.find(container);
    if (found == containers_.end()) {
      return ErrorReply(404, "no container " + container + " was started by this page");
    }
    logs = std::move(found->second);
    containers_.erase(found);
  }
  const ::tp::cli::Status removed =
      services_.docker.Remove(DockerResource::kContainer, {container});
  logs.reset();  // its log ended with it
  if (!removed.ok()) return ErrorReply(500, removed.error().message);
  return UiReply{200, {{"container", container}}};
}

}  // namespace tp::cli
