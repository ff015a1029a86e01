// `telepresence docker-run`: see its --help (command_line.cc).
#include "cli/commands.h"
#include "cli/host_mode.h"
#include "cli/teleroute_network.h"

namespace tp::cli {
namespace {

constexpr std::string_view kCommand = "docker-run";

CliError NotConnected(const std::string& context_name, std::string_view detail) {
  std::string context_flag =
      context_name == kDefaultContextName ? "" : " --context " + context_name;
  return CliError{"not connected with --docker (" + std::string(detail) +
                  "); run telepresence connect --docker" + context_flag + " first"};
}

}  // namespace

Result<std::string> DaemonAddressOnNetwork(const std::string& context_name, DockerApi& docker) {
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<std::string>> state = docker.ContainerState(container);
  if (!state.ok()) return state.error();
  if (state.value() != "running") {
    return NotConnected(context_name, "no daemon container " + container + " runs");
  }
  Result<std::optional<TelerouteNetworkInfo>> network = FindTelerouteNetwork(docker, context_name);
  if (!network.ok()) return network.error();
  const std::string name = TelerouteNetworkName(context_name);
  if (!network.value()) return NotConnected(context_name, "there is no network " + name);
  if (!network.value()->daemon_attached || network.value()->daemon_address.empty()) {
    return NotConnected(context_name, "the daemon is not attached to the network " + name);
  }
  return network.value()->daemon_address;
}

Result<Argv> DockerRunOnNetworkArgv(const std::string& context_name,
                                    const std::vector<std::string>& docker_args,
                                    CliServices& services) {
  Result<std::optional<HostDaemonConnection>> host =
      HostDaemonUnlessContainer(context_name, services);
  if (!host.ok()) return host.error();
  if (host.value()) return DockerRunOnHostCommand(docker_args);
  Result<std::string> daemon = DaemonAddressOnNetwork(context_name, services.docker);
  if (!daemon.ok()) return daemon.error();
  const std::string container = DaemonContainerName(context_name);
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  Result<DaemonStatus> status = endpoint.ok()
                                    ? FetchDaemonStatus(*services.daemon_control(endpoint.value()))
                                    : Result<DaemonStatus>(endpoint.error());
  if (!status.ok()) {
    return CliError{"the daemon container " + container +
                    " runs but its control API does not answer: " + status.error().message +
                    "; run telepresence quit, then telepresence connect --docker"};
  }
  return DockerRunOnNetworkCommand(TelerouteNetworkName(context_name), daemon.value(),
                                   status.value().dns_search, docker_args);
}

int RunDockerRun(const DockerRunCommand& command, const CliIo& io, CliServices& services) {
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<Argv> argv = DockerRunOnNetworkArgv(context_name, command.docker_args, services);
  if (!argv.ok()) return Fail(io, kCommand, argv.error().message);
  io.out.flush();
  io.err.flush();
  Result<ExitCode> exit_code = services.docker.RunAttached(argv.value());
  if (!exit_code.ok()) return Fail(io, kCommand, exit_code.error().message);
  return exit_code.value();
}

}  // namespace tp::cli
