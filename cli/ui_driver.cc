#include "cli/ui_driver.h"

#include <ostream>
#include <sstream>
#include <utility>

#include "cli/commands.h"
#include "cli/line_sink.h"
#include "cli/validation.h"

namespace tp::cli {
namespace {

using nlohmann::json;
using webui::ErrorReply;
using webui::UiReply;

// "telepresence connect: SENTENCE" -> "SENTENCE".
std::string ErrorSentence(std::string_view line) {
  constexpr std::string_view kPrefix = "telepresence ";
  if (line.substr(0, kPrefix.size()) == kPrefix) {
    const size_t colon = line.find(": ");
    if (colon != std::string_view::npos) return std::string(line.substr(colon + 2));
  }
  return std::string(line);
}

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
  std::ostringstream out;
  Outcome outcome;
  {
    LineSink progress([&](std::string_view line, bool partial) {
      events_.Publish("progress", {{"action", action}, {"line", line}, {"partial", partial}});
    });
    std::ostream err(&progress);
    outcome.exit_code = command(CliIo{out, err, environment_});
    err.flush();
    if (outcome.exit_code != kExitOk) outcome.error = ErrorSentence(progress.last_line());
  }
  outcome.out = out.str();
  return outcome;
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
  Result<std::filesystem::path> directory = ContextsDirectory(environment_);
  if (!directory.ok()) return ErrorReply(500, directory.error().message);
  json contexts = json::array();
  for (const std::string& name : ListContextNames(directory.value())) {
    Result<Context> context = LoadContext(name, directory.value());
    if (!context.ok()) {
      contexts.push_back({{"name", name}, {"error", context.error().message}});
      continue;
    }
    contexts.push_back({{"name", name},
                        {"manager", context.value().manager},
                        {"cluster_network", context.value().cluster_network},
                        {"cluster_subnets", context.value().cluster_subnets}});
  }
  return UiReply{200, {{"contexts", std::move(contexts)}, {"default", default_context_}}};
}

UiReply CliUiDriver::Status(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  return JsonReply(RunCommand("status", [&](const CliIo& io) {
    return RunStatus(StatusCommand{.context_name = context, .output = OutputFormat::kJson}, io,
                     services_);
  }));
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

UiReply CliUiDriver::Engage(const webui::EngageForm&) {
  return ErrorReply(501, "engaging from the page is not there yet; use telepresence replace");
}

UiReply CliUiDriver::Engagements(const std::string& context) {
  if (auto refused = RefuseBadContext(context)) return *refused;
  return UiReply{200, {{"engagements", json::array()}}};
}

UiReply CliUiDriver::Leave(const std::string&, const std::string& engagement_id) {
  return ErrorReply(404, "no engagement " + engagement_id + " was started by this page");
}

UiReply CliUiDriver::DockerRun(const webui::DockerRunForm&) {
  return ErrorReply(501,
                    "running a container from the page is not there yet; use telepresence "
                    "docker-run");
}

UiReply CliUiDriver::StopContainer(const std::string& container) {
  return ErrorReply(404, "no container " + container + " was started by this page");
}

}  // namespace tp::cli
