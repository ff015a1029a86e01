#include "cli/connected_daemon.h"

#include "cli/commands.h"
#include "cli/host_interfaces.h"
#include "cli/teleroute_network.h"

namespace tp::cli {

std::string ContextFlagText(const std::string& context_name) {
  return context_name == kDefaultContextName ? "" : " --context " + context_name;
}

CliError NotConnected(const std::string& context_name) {
  return CliError{"not connected (no daemon container " + DaemonContainerName(context_name) +
                  " runs); run telepresence connect --docker" + ContextFlagText(context_name) +
                  " first"};
}

Result<DaemonConnection> ConnectToDaemon(const std::string& context_name, CliServices& services) {
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return state.error();
  if (state.value() != "running") return NotConnected(context_name);
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) return endpoint.error();
  return DaemonConnection{services.daemon_control(endpoint.value()), endpoint.value()};
}

Result<ConnectedDaemon> FindConnectedDaemon(const std::string& context_name,
                                            CliServices& services) {
  Result<std::string> dns = DaemonAddressOnNetwork(context_name, services.docker);
  if (!dns.ok()) return dns.error();
  Result<DaemonConnection> connection = ConnectToDaemon(context_name, services);
  if (!connection.ok()) return connection.error();
  Result<DaemonStatus> status = FetchDaemonStatus(*connection.value().control);
  if (!status.ok()) return status.error();
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<DockerNetwork>> bridge = services.docker.InspectNetwork("bridge");
  if (!bridge.ok()) return bridge.error();
  const std::optional<std::string> address =
      bridge.value() ? ContainerAddressIn(*bridge.value(), container) : std::nullopt;
  const std::optional<Ipv4Address> gateway =
      bridge.value() ? DefaultBridgeGateway(*bridge.value(), InterfaceIpv4Address) : std::nullopt;
  if (!address || !gateway) {
    return CliError{"the daemon container " + container +
                    " has no address on Docker's bridge network, which the remote volumes are "
                    "mounted from; run telepresence quit, then telepresence connect --docker"};
  }
  return ConnectedDaemon{.control = std::move(connection.value().control),
                         .endpoint = connection.value().endpoint,
                         .container = container,
                         .placement = {.context_name = context_name,
                                       .network = TelerouteNetworkName(context_name),
                                       .dns = dns.value(),
                                       .dns_search = status.value().dns_search,
                                       .bridge_address = *address,
                                       .bridge_gateway = gateway->ToString()}};
}

}  // namespace tp::cli
