// `telepresence status`, `quit` and `curl`: the commands that act on a running daemon. See their
// --help (command_line.cc) and the status formats in daemon_status.h.
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "cli/connected_daemon.h"
#include "cli/context_resources.h"
#include "cli/host_mode.h"
#include "cli/teleroute_network.h"

namespace tp::cli {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kQuitWait{10000};
constexpr milliseconds kQuitPollInterval{100};

bool IsRunning(const std::optional<std::string>& state) { return state == "running"; }

// Asks the running daemon to quit and waits until Docker has removed its container. Whatever
// goes wrong is said on `err`; the caller removes what is left.
void AskToQuitAndWait(const std::string& container, const CliIo& io, CliServices& services) {
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  Status asked =
      endpoint.ok() ? services.daemon_control(endpoint.value())->Quit() : Status(endpoint.error());
  if (!asked.ok()) {
    io.err << "The daemon did not take the quit request (" << asked.error().message
           << "); removing its container" << std::endl;
    return;
  }
  const SteadyTime deadline = services.clock.Now() + kQuitWait;
  while (services.clock.Now() < deadline) {
    Result<std::optional<std::string>> state = services.docker.ContainerState(container);
    if (state.ok() && !state.value()) return;
    services.clock.SleepFor(kQuitPollInterval);
  }
  io.err << "The daemon container " << container << " did not stop within "
         << std::chrono::duration_cast<std::chrono::seconds>(kQuitWait).count()
         << " s; removing it by force" << std::endl;
}

// Removes everything of the context; a container that Docker was removing anyway (--rm) may
// make the removal fail, so what is still there after a failure decides.
Status RemoveEverything(const ContextResources& resources, const std::string& context_name,
                        CliServices& services) {
  Status removed = RemoveContextResources(services.docker, resources);
  if (removed.ok()) return removed;
  Result<ContextResources> left = ListContextResources(services.docker, context_name);
  if (left.ok() && left.value().empty()) return Ok{};
  return CliError{"could not remove everything of context " + context_name + ": " +
                  removed.error().message + "; try telepresence quit again"};
}

void PrintNotConnected(const StatusCommand& command, const std::string& context_name,
                       std::ostream& out) {
  if (command.output == OutputFormat::kJson) {
    out << NotConnectedJson(context_name).dump() << "\n";
  } else {
    out << FormatNotConnectedText(context_name);
  }
}

void PrintNotRunning(const StatusCommand& command, const std::string& context_name,
                     const std::string& container, const std::string& state, std::ostream& out) {
  if (command.output == OutputFormat::kJson) {
    out << ContainerNotRunningJson(context_name, container, state).dump() << "\n";
  } else {
    out << FormatContainerNotRunningText(context_name, container, state);
  }
}

nlohmann::json TelerouteNetworkJson(const std::optional<TelerouteNetworkInfo>& network) {
  if (!network) return nullptr;
  return {{"name", network->name},
          {"subnet", network->subnet},
          {"daemon", network->daemon_address},
          {"daemon_attached", network->daemon_attached}};
}

// Removes tp-<ctx> and says so. A network that is gone already is fine.
Status RemoveNetworkAndSaySo(const std::string& network, const CliIo& io, DockerApi& docker) {
  Result<std::vector<std::string>> disconnected = RemoveTelerouteNetwork(docker, network);
  if (!disconnected.ok()) {
    return CliError{disconnected.error().message + "; try telepresence quit again"};
  }
  io.out << "Removed the Teleroute network " << network;
  if (!disconnected.value().empty()) {
    io.out << " (disconnected " << JoinOrNone(disconnected.value()) << ")";
  }
  io.out << "\n";
  return Ok{};
}

CliError ControlApiProblem(const std::string& container, const CliError& error) {
  return CliError{"the daemon container " + container +
                  " runs but its control API does not answer: " + error.message +
                  "; run telepresence quit, then telepresence connect --docker"};
}

}  // namespace

std::string ContextNameOrDefault(const std::optional<std::string>& context_name) {
  return context_name.value_or(std::string(kDefaultContextName));
}

int Fail(const CliIo& io, std::string_view command, std::string_view message, int exit_code) {
  io.err << "telepresence " << command << ": " << message << "\n";
  return exit_code;
}

bool IsFailLine(std::string_view line) {
  constexpr std::string_view kPrefix = "telepresence ";
  return line.substr(0, kPrefix.size()) == kPrefix && line.find(": ") != std::string_view::npos;
}

std::string FailSentence(std::string_view line) {
  if (!IsFailLine(line)) return std::string(line);
  return std::string(line.substr(line.find(": ") + 2));
}

Result<DaemonStatus> FetchDaemonStatus(DaemonControl& control) {
  Result<nlohmann::json> body = control.GetStatus();
  if (!body.ok()) return body.error();
  return ParseDaemonStatus(body.value());
}

int RunStatus(const StatusCommand& command, const CliIo& io, CliServices& services) {
  constexpr std::string_view kCommand = "status";
  const std::string context_name = ContextNameOrDefault(command.context_name);
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return Fail(io, kCommand, state.error().message);
  if (!state.value()) {
    Result<std::optional<HostDaemonConnection>> host = FindHostDaemon(context_name, services);
    if (!host.ok()) return Fail(io, kCommand, host.error().message);
    if (host.value()) {
      return PrintHostDaemonStatus(*host.value(), context_name,
                                   command.output == OutputFormat::kJson, io);
    }
    PrintNotConnected(command, context_name, io.out);
    return kExitOk;
  }
  if (!IsRunning(state.value())) {
    PrintNotRunning(command, context_name, container, *state.value(), io.out);
    return kExitOk;
  }
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) {
    return Fail(io, kCommand, ControlApiProblem(container, endpoint.error()).message);
  }
  Result<nlohmann::json> body = services.daemon_control(endpoint.value())->GetStatus();
  if (!body.ok()) return Fail(io, kCommand, ControlApiProblem(container, body.error()).message);
  Result<std::optional<TelerouteNetworkInfo>> network =
      FindTelerouteNetwork(services.docker, context_name);
  if (!network.ok()) return Fail(io, kCommand, network.error().message);
  if (command.output == OutputFormat::kJson) {
    nlohmann::json json = StatusJson(body.value(), context_name, container);
    json["teleroute_network"] = TelerouteNetworkJson(network.value());
    io.out << json.dump() << "\n";
    return kExitOk;
  }
  Result<DaemonStatus> status = ParseDaemonStatus(body.value());
  if (!status.ok()) return Fail(io, kCommand, status.error().message);
  io.out << FormatStatusText(status.value(), context_name, container,
                             network.value() ? FormatTelerouteNetwork(*network.value()) : "");
  return kExitOk;
}

int RunQuit(const QuitCommand& command, const CliIo& io, CliServices& services) {
  constexpr std::string_view kCommand = "quit";
  const std::string context_name = ContextNameOrDefault(command.context_name);
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return Fail(io, kCommand, state.error().message);
  (void)TakeDownComposeProjects(context_name, io, services);  // says its problems itself
  if (IsRunning(state.value())) AskToQuitAndWait(container, io, services);
  const bool on_host = HasHostDaemon(context_name, services);
  if (on_host) {
    Status quit = QuitHostDaemon(context_name, io, services);
    if (!quit.ok()) return Fail(io, kCommand, quit.error().message);
  }
  Result<ContextResources> resources = ListContextResources(services.docker, context_name);
  if (!resources.ok()) return Fail(io, kCommand, resources.error().message);
  const std::string network = TelerouteNetworkName(context_name);
  Result<std::optional<DockerNetwork>> network_found = services.docker.InspectNetwork(network);
  if (!network_found.ok()) return Fail(io, kCommand, network_found.error().message);
  if (!on_host && !state.value() && resources.value().empty() && !network_found.value()) {
    io.out << "Not connected (context " << context_name << "); nothing to quit\n";
    return kExitOk;
  }
  Status removed = RemoveEverything(resources.value(), context_name, services);
  if (!removed.ok()) return Fail(io, kCommand, removed.error().message);
  if (network_found.value()) {
    Status network_removed = RemoveNetworkAndSaySo(network, io, services.docker);
    if (!network_removed.ok()) return Fail(io, kCommand, network_removed.error().message);
  }
  io.out << "Disconnected (context " << context_name << ")\n";
  return kExitOk;
}

int RunCurl(const CurlCommand& command, const CliIo& io, CliServices& services) {
  constexpr std::string_view kCommand = "curl";
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<Argv> argv = CurlRunCommand(context_name, command.curl_args);
  if (!argv.ok()) return Fail(io, kCommand, argv.error().message, kExitUsage);
  Result<std::optional<std::string>> state =
      services.docker.ContainerState(DaemonContainerName(context_name));
  if (!state.ok()) return Fail(io, kCommand, state.error().message);
  if (!IsRunning(state.value())) {
    Result<std::optional<HostDaemonConnection>> host = FindHostDaemon(context_name, services);
    if (!host.ok()) return Fail(io, kCommand, host.error().message);
    if (host.value()) {  // the host itself resolves and reaches the cluster
      Argv host_curl{"curl"};
      host_curl.insert(host_curl.end(), command.curl_args.begin(), command.curl_args.end());
      argv = host_curl;
    } else {
      return Fail(
          io, kCommand,
          "not connected; run telepresence connect --docker" + ContextFlagText(context_name));
    }
  } else {
    Status image =
        EnsureImages(services.docker, services.image_builder, {std::string(kCurlImage)}, io.err);
    if (!image.ok()) return Fail(io, kCommand, image.error().message);
  }
  io.out.flush();
  io.err.flush();
  Result<ExitCode> exit_code = services.docker.RunAttached(argv.value());
  if (!exit_code.ok()) return Fail(io, kCommand, exit_code.error().message);
  return exit_code.value();
}

}  // namespace tp::cli
