#include "cli/docker_client.h"

#include <algorithm>
#include <cerrno>

#include "cli/stop_signals.h"

namespace tp::cli {
namespace {

// How many words of a failed command the message quotes (enough to say which call it was).
constexpr size_t kQuotedWords = 4;

std::string CommandSummary(const Argv& argv) {
  Argv first_words(argv.begin(), argv.begin() + std::min(argv.size(), kQuotedWords));
  return FormatArgvForDisplay(first_words) + (argv.size() > kQuotedWords ? " ..." : "");
}

bool DockerdUnreachable(std::string_view stderr_text) {
  return stderr_text.find("Cannot connect to the Docker daemon") != std::string_view::npos ||
         stderr_text.find("Is the docker daemon running") != std::string_view::npos;
}

std::string OneLine(std::string_view text) {
  std::string line;
  for (const std::string& part : OutputLines(text)) line += (line.empty() ? "" : " ") + part;
  return line;
}

// How long a `docker build` may take.
constexpr std::chrono::minutes kBuildTimeout{15};
// How often ForegroundRun looks at its child while waiting for signals.
constexpr std::chrono::milliseconds kChildPollInterval{50};

class ChildForegroundRun : public ForegroundRun {
 public:
  ChildForegroundRun(std::unique_ptr<StopSignals> signals, ChildProcess child)
      : signals_(std::move(signals)), child_(std::move(child)) {}

  Outcome Wait(std::chrono::milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (std::optional<ExitCode> code = child_.TryWait()) return {Event::kExited, *code};
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {Event::kRunning, 0};
      if (signals_->WaitFor(std::min(left, kChildPollInterval))) return {Event::kInterrupted, 0};
    }
  }

 private:
  std::unique_ptr<StopSignals> signals_;  // outlives the child (declared first)
  ChildProcess child_;
};

// How often ListNetworks tries when a network vanishes between `ls` and `inspect`.
constexpr int kNetworkListAttempts = 3;

}  // namespace

bool SaysNotFound(std::string_view stderr_text) {
  if (DockerdUnreachable(stderr_text)) return false;
  return stderr_text.find("not found") != std::string_view::npos ||
         stderr_text.find("No such") != std::string_view::npos;
}

std::string DockerFailureMessage(const Argv& argv, ExitCode exit_code,
                                 std::string_view stderr_text) {
  std::string message = CommandSummary(argv) + " failed (exit " + std::to_string(exit_code) + ")";
  std::string docker_says = OneLine(stderr_text);
  if (!docker_says.empty()) message += ": " + docker_says;
  if (DockerdUnreachable(stderr_text)) {
    message += "; start dockerd (scripts/ensure-dockerd.sh does) and try again";
  }
  return message;
}

Result<std::string> DockerCli::Query(const Argv& argv, std::chrono::milliseconds timeout) {
  Result<CapturedOutput> result = RunCaptured(argv, timeout);
  if (!result.ok()) return CliError{result.error().message + "; is Docker installed and running?"};
  const CapturedOutput& output = result.value();
  if (output.exit_code != 0) {
    return CliError{DockerFailureMessage(argv, output.exit_code, output.err)};
  }
  return output.out;
}

Result<std::optional<std::string>> DockerCli::QueryIfFound(const Argv& argv) {
  Result<CapturedOutput> result = RunCaptured(argv, query_timeout_);
  if (!result.ok()) return CliError{result.error().message + "; is Docker installed and running?"};
  const CapturedOutput& output = result.value();
  if (output.exit_code == 0) return std::optional<std::string>(output.out);
  if (SaysNotFound(output.err)) return std::optional<std::string>();
  return CliError{DockerFailureMessage(argv, output.exit_code, output.err)};
}

Result<std::optional<std::string>> DockerCli::ContainerState(const std::string& container) {
  Result<std::string> output = Query(ContainerStateCommand(container), query_timeout_);
  if (!output.ok()) return output.error();
  return ParseContainerState(output.value());
}

Result<bool> DockerCli::ImageExists(const std::string& image) {
  Result<std::string> output = Query(ImageIdCommand(image), query_timeout_);
  if (!output.ok()) return output.error();
  return !OutputLines(output.value()).empty();
}

Result<std::string> DockerCli::RunDetached(const Argv& argv) {
  Result<std::string> output = Query(argv, run_timeout_);
  if (!output.ok()) return output.error();
  std::vector<std::string> lines = OutputLines(output.value());
  return lines.empty() ? std::string() : lines.back();
}

Result<DaemonEndpoint> DockerCli::ControlEndpoint(const std::string& container) {
  Result<std::string> output = Query(ControlEndpointCommand(container), query_timeout_);
  if (!output.ok()) return output.error();
  return ParseControlEndpoint(output.value());
}

Result<std::vector<std::string>> DockerCli::ListLabelled(DockerResource kind,
                                                         const std::string& label) {
  Result<std::string> output = Query(ListLabelledCommand(kind, label), query_timeout_);
  if (!output.ok()) return output.error();
  return OutputLines(output.value());
}

Status DockerCli::Remove(DockerResource kind, const std::vector<std::string>& names) {
  if (names.empty()) return Ok{};
  Result<std::string> output = Query(RemoveCommand(kind, names), query_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Result<ExitCode> DockerCli::RunAttached(const Argv& argv) {
  return tp::cli::RunAttached(argv, ChildStreams::kInherited);
}

Result<std::optional<bool>> DockerCli::PluginEnabled(const std::string& plugin) {
  Result<std::optional<std::string>> output = QueryIfFound(PluginEnabledCommand(plugin));
  if (!output.ok()) return output.error();
  if (!output.value()) return std::optional<bool>();
  std::vector<std::string> lines = OutputLines(*output.value());
  return std::optional<bool>(!lines.empty() && lines.front() == "true");
}

Status DockerCli::EnablePlugin(const std::string& plugin) {
  // Enabling starts the plugin and waits for its socket: allow as long as a container start.
  Result<std::string> output = Query(PluginEnableCommand(plugin), run_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Result<std::vector<DockerNetwork>> DockerCli::ListNetworks() {
  CliError last_error{""};
  for (int attempt = 0; attempt < kNetworkListAttempts; ++attempt) {
    Result<std::string> ids = Query(NetworkIdsCommand(), query_timeout_);
    if (!ids.ok()) return ids.error();
    std::vector<std::string> names = OutputLines(ids.value());
    if (names.empty()) return std::vector<DockerNetwork>();
    Result<std::string> output = Query(NetworkInspectCommand(names), query_timeout_);
    if (output.ok()) return ParseNetworkInspect(output.value());
    last_error = output.error();  // a network went away meanwhile: list again
  }
  return last_error;
}

Result<std::optional<DockerNetwork>> DockerCli::InspectNetwork(const std::string& network) {
  Result<std::optional<std::string>> output = QueryIfFound(NetworkInspectCommand({network}));
  if (!output.ok()) return output.error();
  if (!output.value()) return std::optional<DockerNetwork>();
  Result<std::vector<DockerNetwork>> networks = ParseNetworkInspect(*output.value());
  if (!networks.ok()) return networks.error();
  // `inspect NAME` also matches by id prefix: only the network of that very name counts.
  for (DockerNetwork& candidate : networks.value()) {
    if (candidate.name == network) return std::optional<DockerNetwork>(std::move(candidate));
  }
  return std::optional<DockerNetwork>();
}

Status DockerCli::CreateNetwork(const Argv& argv) {
  Result<std::string> output = Query(argv, run_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Status DockerCli::ConnectToNetwork(const std::string& network, const std::string& container,
                                   const std::string& ip) {
  Result<std::string> output = Query(NetworkConnectCommand(network, container, ip), run_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Status DockerCli::DisconnectFromNetwork(const std::string& network, const std::string& container) {
  Result<std::string> output = Query(NetworkDisconnectCommand(network, container), query_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Status DockerCli::CreateVolume(const Argv& argv) {
  Result<std::string> output = Query(argv, run_timeout_);
  if (!output.ok()) return output.error();
  return Ok{};
}

Result<std::string> DockerCli::BuildImage(const Argv& argv) {
  Result<std::string> output = Query(argv, kBuildTimeout);
  if (!output.ok()) return output.error();
  std::vector<std::string> lines = OutputLines(output.value());
  if (lines.empty()) return CliError{"docker build printed no image id"};
  return lines.back();
}

Status DockerCli::StopContainer(const std::string& container) {
  Result<std::optional<std::string>> output = QueryIfFound({"docker", "stop", container});
  if (!output.ok()) return output.error();
  return Ok{};
}

Result<std::unique_ptr<ForegroundRun>> DockerCli::StartForeground(const Argv& argv) {
  auto signals = std::make_unique<StopSignals>();
  Result<ChildProcess> child = ChildProcess::Spawn(argv, ChildStreams::kInherited);
  if (!child.ok()) return CliError{child.error().message + "; is Docker installed?"};
  return std::unique_ptr<ForegroundRun>(
      std::make_unique<ChildForegroundRun>(std::move(signals), std::move(child).value()));
}

Status RemoveVolumeWithin(DockerApi& docker, Clock& clock, const std::string& volume,
                          std::chrono::milliseconds within) {
  const SteadyTime deadline = clock.Now() + within;
  while (true) {
    Status removed = docker.Remove(DockerResource::kVolume, {volume});
    if (removed.ok() || clock.Now() >= deadline) return removed;
    clock.SleepFor(kVolumeRemoveInterval);
  }
}

}  // namespace tp::cli
