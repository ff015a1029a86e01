#include "cli/connected_daemon.h"

#include "cli/commands.h"
#include "cli/host_interfaces.h"
#include "cli/host_mode.h"
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
  if (state.value() != "running") {
    Result<std::optional<HostDaemonConnection>> host = FindHostDaemon(context_name, services);
    if (!host.ok()) return host.error();
    if (!host.value()) return NotConnected(context_name);
    return DaemonConnection{std::move(host.value()->control), host.value()->endpoint};
  }
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) return endpoint.error();
  return DaemonConnection{services.daemon_control(endpoint.value()), endpoint.value()};
}

namespace {

// The placement of a daemon on this host (when no daemon container exists): handlers on Docker's
// default bridge, volumes served on the host's loopback, where the telemount plugin (in the
// host's network) connects from.
Result<std::optional<ConnectedDaemon>> FindConnectedHostDaemon(const std::string& context_name,
                                                               CliServices& services) {
  Result<std::optional<HostDaemonConnection>> host =
      HostDaemonUnlessContainer(context_name, services);
  if (!host.ok()) return host.error();
  if (!host.value()) return std::optional<ConnectedDaemon>();
  Result<DaemonStatus> status = FetchDaemonStatus(*host.value()->control);
  if (!status.ok()) return status.error();
  return std::optional<ConnectedDaemon>(
      ConnectedDaemon{.control = std::move(host.value()->control),
                      .endpoint = host.value()->endpoint,
                      .container = "",
                      .placement = {.context_name = context_name,
                                    .network = "bridge",
                                    .dns = host.value()->record.dns_address,
                                    .dns_search = status.value().dns_search,
                                    .bridge_address = "127.0.0.1",
                                    .bridge_gateway = "127.0.0.1",
                                    .on_host = true}});
}

}  // namespace

Result<ConnectedDaemon> FindConnectedDaemon(const std::string& context_name,
                                            CliServices& services) {
  Result<std::optional<ConnectedDaemon>> host = FindConnectedHostDaemon(context_name, services);
  if (!host.ok()) return host.error();
  if (host.value()) return std::move(*host.value());
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
