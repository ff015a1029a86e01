#include "teleroute/teleroute_driver.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

namespace tp::teleroute {
namespace {

// The state file in `state_dir`, which is created if missing.
std::string StateFileIn(const std::string& state_dir) {
  std::filesystem::create_directories(state_dir);
  return state_dir + "/teleroute.json";
}

// What CreateEndpoint fills in: the MAC address, derived from the IP address (as Docker's bridge
// driver does) unless dockerd gave one. A container that comes back with the same address
// (the daemon, restarted) so keeps its MAC, and its neighbours' ARP entries stay right.
EndpointInterface ReplyFor(const CreateEndpointRequest& request, const Ipv4Prefix& address) {
  EndpointInterface reply;
  if (request.interface.mac_address.empty()) reply.mac_address = MacAddressFor(address.address);
  return reply;
}

std::vector<StaticRoute> RoutesFor(const NetworkRecord& network, const EndpointRecord& endpoint) {
  std::vector<StaticRoute> routes;
  if (endpoint.address.address == network.settings.daemon) return routes;  // it is the gateway
  for (const Ipv4Prefix& subnet : network.subnets.ipv4) {
    routes.push_back({subnet.ToString(), 0, network.settings.daemon.ToString()});
  }
  if (!network.settings.ipv6) return routes;
  for (const Ipv6Prefix& subnet : network.subnets.ipv6) {
    routes.push_back({subnet.ToString(), 0, network.settings.ipv6->daemon.ToString()});
  }
  return routes;
}

std::optional<Ipv6Prefix> BridgeAddress6(const NetworkSettings& settings) {
  if (!settings.ipv6) return std::nullopt;
  return settings.ipv6->gateway;
}

// The endpoint's IPv6 address from Docker's IPAM is inside the network's IPv6 pool; an IPv4-only
// network has none.
void CheckEndpointIpv6(const NetworkSettings& settings, const std::string& address_ipv6) {
  if (address_ipv6.empty()) return;
  if (!settings.ipv6) {
    throw std::invalid_argument("endpoint address " + address_ipv6 +
                                " is IPv6, and the network was created without --ipv6");
  }
  const std::optional<Ipv6Prefix> address = ParseIpv6Prefix(address_ipv6);
  if (!address || !settings.ipv6->pool.Contains(address->Address())) {
    throw std::invalid_argument("endpoint address " + address_ipv6 + " is not inside " +
                                settings.ipv6->pool.ToString());
  }
}

// Throws when the network exists with other settings; true when it exists with these.
bool AlreadyCreated(const NetworkTable& table, const std::string& network_id,
                    const NetworkSettings& settings) {
  const std::optional<NetworkRecord> existing = table.FindNetwork(network_id);
  if (!existing) return false;
  if (existing->settings == settings) return true;
  throw std::runtime_error("network " + ShortId(network_id) +
                           " already exists with other settings");
}

}  // namespace

TelerouteDriver::TelerouteDriver(NetworkOs& os, RouteSource& routes, std::string state_dir)
    : os_(os),
      route_source_(routes),
      state_dir_(std::move(state_dir)),
      table_(StateFileIn(state_dir_)) {
  RestoreLinks();
}

void TelerouteDriver::CreateNetwork(const CreateNetworkRequest& request) {
  const NetworkSettings settings = ParseNetworkSettings(request);
  if (AlreadyCreated(table_, request.network_id, settings)) return;
  // Asked before taking the operation lock: a route source may ask the daemon over the network.
  NetworkRecord network{settings, request.options,
                        route_source_.InitialSubnets(request.network_id, settings.daemon,
                                                     settings.configured_subnets)};
  Normalize(network.subnets);
  MutexLock changes(changes_mutex_);
  if (AlreadyCreated(table_, request.network_id, settings)) return;
  if (table_.BridgeInUse(settings.bridge)) {
    throw std::runtime_error("bridge " + settings.bridge + " is used by another network");
  }
  if (request.options.count("bridge") && os_.LinkExists(settings.bridge)) {
    throw std::runtime_error("a link named " + settings.bridge +
                             " already exists; choose another name with -o bridge=NAME");
  }
  os_.EnsureBridge(settings.bridge, settings.gateway, BridgeAddress6(settings));
  try {
    os_.AllowBridgeForwarding(settings.bridge);
    table_.AddNetwork(request.network_id, network);
  } catch (...) {
    RevokeForwardingQuietly(settings.bridge);
    os_.DeleteLink(settings.bridge);
    throw;
  }
  spdlog::info("created network {} (bridge {}, gateway {}, daemon {}{}, {} cluster subnet(s))",
               ShortId(request.network_id), settings.bridge, settings.gateway.ToString(),
               settings.daemon.ToString(),
               settings.ipv6 ? " and " + settings.ipv6->daemon.ToString() : "",
               network.subnets.ipv4.size() + network.subnets.ipv6.size());
}

void TelerouteDriver::DeleteNetwork(const std::string& network_id) {
  MutexLock changes(changes_mutex_);
  const std::string bridge = table_.Network(network_id).settings.bridge;
  for (const std::string& link : table_.HostLinks(network_id)) os_.DeleteLink(link);
  RevokeForwardingQuietly(bridge);
  os_.DeleteLink(bridge);
  table_.RemoveNetwork(network_id);
  spdlog::info("deleted network {} (bridge {})", ShortId(network_id), bridge);
}

EndpointInterface TelerouteDriver::CreateEndpoint(const CreateEndpointRequest& request) {
  if (request.interface.address.empty()) {
    throw std::invalid_argument(
        "teleroute needs the endpoint's IPv4 address from Docker's IPAM (do not use "
        "--ipam-driver null)");
  }
  const Ipv4Prefix address = RequirePrefix(request.interface.address, "endpoint address");
  MutexLock changes(changes_mutex_);
  const EndpointRecord endpoint{request.network_id, address, HostVethName(request.endpoint_id),
                                ContainerVethName(request.endpoint_id), ""};
  const NetworkRecord network = table_.Network(request.network_id);
  if (!network.settings.pool.Contains(address.address)) {
    throw std::invalid_argument("endpoint address " + address.ToString() + " is not inside " +
                                network.settings.pool.ToString());
  }
  CheckEndpointIpv6(network.settings, request.interface.address_ipv6);
  if (const std::optional<EndpointRecord> existing = table_.FindEndpoint(request.endpoint_id)) {
    if (existing->network_id == request.network_id && existing->address == address) {
      return ReplyFor(request, address);
    }
    throw std::runtime_error("endpoint " + ShortId(request.endpoint_id) + " already exists");
  }
  const std::string& bridge = network.settings.bridge;
  os_.EnsureVethPair(endpoint.host_link, endpoint.container_link, bridge);
  try {
    table_.AddEndpoint(request.endpoint_id, endpoint);
  } catch (...) {
    os_.DeleteLink(endpoint.host_link);
    throw;
  }
  spdlog::info("created endpoint {} ({} on {}, veth {}/{})", ShortId(request.endpoint_id),
               address.ToString(), bridge, endpoint.host_link, endpoint.container_link);
  return ReplyFor(request, address);
}

void TelerouteDriver::DeleteEndpoint(const std::string& network_id,
                                     const std::string& endpoint_id) {
  MutexLock changes(changes_mutex_);
  const std::string link = table_.Endpoint(network_id, endpoint_id).host_link;
  os_.DeleteLink(link);
  table_.RemoveEndpoint(endpoint_id);
  spdlog::info("deleted endpoint {} (veth {})", ShortId(endpoint_id), link);
}

std::map<std::string, std::string> TelerouteDriver::EndpointOperInfo(
    const std::string& network_id, const std::string& endpoint_id) {
  table_.Endpoint(network_id, endpoint_id);  // throws for an unknown one
  return {};
}

JoinReply TelerouteDriver::Join(const JoinRequest& request) {
  EnsureForwarding(request.network_id);
  const auto [endpoint, network] =
      table_.SetSandbox(request.network_id, request.endpoint_id, request.sandbox_key);
  JoinReply reply;
  reply.src_name = endpoint.container_link;
  reply.static_routes = RoutesFor(network, endpoint);
  spdlog::info("endpoint {} joined {} with {} route(s)", ShortId(request.endpoint_id),
               request.sandbox_key, reply.static_routes.size());
  return reply;
}

void TelerouteDriver::Leave(const std::string& network_id, const std::string& endpoint_id) {
  table_.SetSandbox(network_id, endpoint_id, "");
  spdlog::info("endpoint {} left", ShortId(endpoint_id));
}

void TelerouteDriver::ProgramExternalConnectivity(const std::string& network_id,
                                                  const std::string& endpoint_id) {
  table_.Endpoint(network_id, endpoint_id);
}

void TelerouteDriver::RevokeExternalConnectivity(const std::string& network_id,
                                                 const std::string& endpoint_id) {
  table_.Endpoint(network_id, endpoint_id);
}

std::vector<std::string> TelerouteDriver::UpdateRoutes(const std::string& network_id,
                                                       const ClusterSubnets& subnets) {
  ClusterSubnets wanted = subnets;
  Normalize(wanted);
  MutexLock changes(changes_mutex_);
  const SubnetChange change = table_.ReplaceSubnets(network_id, wanted);
  std::vector<std::string> problems;
  for (const auto& [id, sandbox] : change.sandboxes) {
    try {
      ApplyChange(sandbox, change);
    } catch (const std::exception& error) {
      problems.push_back("endpoint " + ShortId(id) + ": " + error.what());
      spdlog::warn("routes of endpoint {} not updated: {}", ShortId(id), error.what());
    }
  }
  spdlog::info("network {}: {} subnet(s) added, {} removed, {} container(s) updated",
               ShortId(network_id), change.added.ipv4.size() + change.added.ipv6.size(),
               change.removed.ipv4.size() + change.removed.ipv6.size(),
               change.sandboxes.size() - problems.size());
  return problems;
}

void TelerouteDriver::ApplyChange(const std::string& sandbox, const SubnetChange& change) {
  for (const Ipv4Prefix& subnet : change.removed.ipv4)
    os_.RemoveRoute(sandbox, subnet, change.daemon);
  for (const Ipv4Prefix& subnet : change.added.ipv4) os_.AddRoute(sandbox, subnet, change.daemon);
  if (!change.daemon6) return;  // an IPv4-only network keeps its IPv6 subnets for no one
  for (const Ipv6Prefix& subnet : change.removed.ipv6)
    os_.RemoveRoute(sandbox, subnet, *change.daemon6);
  for (const Ipv6Prefix& subnet : change.added.ipv6) os_.AddRoute(sandbox, subnet, *change.daemon6);
}

ClusterSubnets TelerouteDriver::Subnets(const std::string& network_id) const {
  return table_.Network(network_id).subnets;
}

std::vector<DaemonFeed> TelerouteDriver::DaemonFeeds() const { return table_.DaemonFeeds(); }

void TelerouteDriver::EnsureForwarding(const std::string& network_id) {
  const std::string bridge = table_.Network(network_id).settings.bridge;
  try {
    os_.AllowBridgeForwarding(bridge);
  } catch (const std::exception& error) {
    spdlog::error("containers on bridge {} may not reach each other: {}", bridge, error.what());
  }
}

void TelerouteDriver::RevokeForwardingQuietly(const std::string& bridge) {
  try {
    os_.RevokeBridgeForwarding(bridge);
  } catch (const std::exception& error) {
    spdlog::warn("forwarding rule of bridge {} stays: {}", bridge, error.what());
  }
}

void TelerouteDriver::RestoreLinks() {
  const auto [networks, endpoints] = table_.Snapshot();
  for (const auto& [network_id, network] : networks) {
    try {
      os_.EnsureBridge(network.settings.bridge, network.settings.gateway,
                       BridgeAddress6(network.settings));
      os_.AllowBridgeForwarding(network.settings.bridge);
    } catch (const std::exception& error) {
      spdlog::error("cannot restore bridge {} of network {}: {}", network.settings.bridge,
                    ShortId(network_id), error.what());
      continue;
    }
    for (const auto& [endpoint_id, endpoint] : endpoints) {
      if (endpoint.network_id != network_id) continue;
      if (!endpoint.sandbox_key.empty() && !os_.LinkExists(endpoint.host_link)) {
        spdlog::warn("veth {} of joined endpoint {} is gone; its container lost the network",
                     endpoint.host_link, ShortId(endpoint_id));
        continue;
      }
      try {
        os_.EnsureVethPair(endpoint.host_link, endpoint.container_link, network.settings.bridge);
      } catch (const std::exception& error) {
        spdlog::error("cannot restore veth {}: {}", endpoint.host_link, error.what());
      }
    }
  }
}

}  // namespace tp::teleroute
