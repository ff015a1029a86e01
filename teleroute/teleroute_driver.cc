#include "teleroute/teleroute_driver.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>

#include "common/atomic_file.h"

namespace tp::teleroute {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr size_t kMaxLinkName = 15;  // IFNAMSIZ - 1

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

std::string Short(const std::string& id) { return id.substr(0, 12); }

bool IsValidLinkName(const std::string& name) {
  if (name.empty() || name.size() > kMaxLinkName || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

std::string HashedSuffix(const std::string& id) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a
  for (unsigned char c : id) hash = (hash ^ c) * 1099511628211ull;
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(hash));
  return std::string(text, 12);
}

Ipv4Prefix RequirePrefix(const std::string& text, const std::string& what) {
  std::optional<Ipv4Prefix> prefix = ParseIpv4Prefix(text);
  if (!prefix) throw std::invalid_argument(what + " " + Quoted(text) + " is not an IPv4 ip/len");
  return *prefix;
}

Ipv4Address ParseDaemonOption(const std::map<std::string, std::string>& options,
                              const Ipv4Prefix& pool, const Ipv4Prefix& gateway) {
  auto it = options.find("daemon");
  if (it == options.end() || it->second.empty()) {
    throw std::invalid_argument(
        "option daemon is required: the daemon container's IPv4 address on this network "
        "(-o daemon=IP)");
  }
  std::optional<Ipv4Address> daemon = ParseIpv4Address(it->second);
  if (!daemon) {
    throw std::invalid_argument("option daemon=" + it->second + " is not an IPv4 address");
  }
  if (!pool.Contains(*daemon)) {
    throw std::invalid_argument("option daemon=" + it->second + " is not inside the subnet " +
                                pool.ToString() + " of the network");
  }
  if (*daemon == gateway.address) {
    throw std::invalid_argument("option daemon=" + it->second +
                                " is the network's gateway; choose another address");
  }
  const uint32_t broadcast = pool.address.value | ~pool.Mask();
  if (pool.length < 31 && (*daemon == pool.address || daemon->value == broadcast)) {
    throw std::invalid_argument("option daemon=" + it->second +
                                " is the subnet's network or broadcast address");
  }
  return *daemon;
}

std::string ParseBridgeOption(const std::map<std::string, std::string>& options,
                              const std::string& network_id) {
  auto it = options.find("bridge");
  if (it == options.end()) return DefaultBridgeName(network_id);
  if (!IsValidLinkName(it->second)) {
    throw std::invalid_argument("option bridge=" + it->second +
                                " is not a valid link name (1 to 15 letters, digits, '-', '_', "
                                "'.')");
  }
  return it->second;
}

uint16_t ParseControlOption(const std::map<std::string, std::string>& options) {
  auto it = options.find("control");
  if (it == options.end()) return kDefaultControlPort;
  const std::string& text = it->second;
  const bool digits =
      !text.empty() && text.size() <= 5 &&
      std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  const unsigned long port = digits ? std::stoul(text) : 0;
  if (port == 0 || port > 65535) {
    throw std::invalid_argument("option control=" + text +
                                " is not a port number (1-65535): the daemon's control API port");
  }
  return static_cast<uint16_t>(port);
}

void CheckOptionNames(const std::map<std::string, std::string>& options) {
  for (const auto& [name, value] : options) {
    if (name != "daemon" && name != "subnets" && name != "bridge" && name != "control") {
      throw std::invalid_argument("unknown option " + Quoted(name) +
                                  " (teleroute knows daemon, subnets, control and bridge)");
    }
  }
}

json PrefixesToJson(const std::vector<Ipv4Prefix>& prefixes) {
  json list = json::array();
  for (const Ipv4Prefix& prefix : prefixes) list.push_back(prefix.ToString());
  return list;
}

std::vector<Ipv4Prefix> PrefixesFromJson(const json& list) {
  std::vector<Ipv4Prefix> prefixes;
  for (const json& item : list) {
    prefixes.push_back(RequirePrefix(item.get<std::string>(), "saved subnet"));
  }
  return prefixes;
}

// Elements of `a` that are not in `b`; both sorted.
std::vector<Ipv4Prefix> Difference(const std::vector<Ipv4Prefix>& a,
                                   const std::vector<Ipv4Prefix>& b) {
  std::vector<Ipv4Prefix> result;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(result));
  return result;
}

// What CreateEndpoint fills in: the MAC address, derived from the IP address (as Docker's bridge
// driver does) unless dockerd gave one. A container that comes back with the same address
// (the daemon, restarted) so keeps its MAC, and its neighbours' ARP entries stay right.
EndpointInterface ReplyFor(const CreateEndpointRequest& request, const Ipv4Prefix& address) {
  EndpointInterface reply;
  if (request.interface.mac_address.empty()) reply.mac_address = MacAddressFor(address.address);
  return reply;
}

}  // namespace

std::string MacAddressFor(Ipv4Address address) {
  char text[18];
  const uint32_t value = address.value;
  std::snprintf(text, sizeof(text), "02:42:%02x:%02x:%02x:%02x", (value >> 24) & 0xff,
                (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
  return text;
}

std::string DefaultBridgeName(const std::string& network_id) { return "tr-" + Short(network_id); }
std::string HostVethName(const std::string& endpoint_id) {
  return "trv" + HashedSuffix(endpoint_id);
}
std::string ContainerVethName(const std::string& endpoint_id) {
  return "trc" + HashedSuffix(endpoint_id);
}

NetworkSettings ParseNetworkSettings(const CreateNetworkRequest& request) {
  if (request.enable_ipv6 || !request.ipv6_data.empty()) {
    throw std::invalid_argument(
        "teleroute does not support IPv6; create the network without --ipv6");
  }
  if (request.ipv4_data.size() != 1) {
    throw std::invalid_argument("teleroute needs exactly one IPv4 subnet per network, got " +
                                std::to_string(request.ipv4_data.size()));
  }
  CheckOptionNames(request.options);
  const IpamData& ipam = request.ipv4_data.front();
  NetworkSettings settings;
  settings.pool = RequirePrefix(ipam.pool, "IPv4 pool");
  if (ipam.gateway.empty()) throw std::invalid_argument("the IPv4 pool has no gateway address");
  const Ipv4Prefix gateway = RequirePrefix(ipam.gateway, "IPv4 gateway");
  if (!settings.pool.Contains(gateway.address)) {
    throw std::invalid_argument("gateway " + ipam.gateway + " is not inside " + ipam.pool);
  }
  settings.gateway = Ipv4Prefix{gateway.address, settings.pool.length};
  settings.daemon = ParseDaemonOption(request.options, settings.pool, settings.gateway);
  settings.bridge = ParseBridgeOption(request.options, request.network_id);
  settings.control_port = ParseControlOption(request.options);
  auto subnets = request.options.find("subnets");
  if (subnets != request.options.end()) {
    try {
      settings.configured_subnets = ParseSubnetList(subnets->second);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("option subnets: ") + error.what());
    }
  }
  return settings;
}

TelerouteDriver::TelerouteDriver(NetworkOs& os, RouteSource& routes, std::string state_dir)
    : os_(os),
      route_source_(routes),
      state_dir_(std::move(state_dir)),
      state_file_(state_dir_ + "/teleroute.json") {
  fs::create_directories(state_dir_);
  Load();
  RestoreLinks();
}

void TelerouteDriver::CreateNetwork(const CreateNetworkRequest& request) {
  NetworkSettings settings = ParseNetworkSettings(request);
  std::lock_guard changes(changes_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = networks_.find(request.network_id);
    if (it != networks_.end()) {
      if (it->second.settings == settings) return;
      throw std::runtime_error("network " + Short(request.network_id) +
                               " already exists with other settings");
    }
    if (BridgeInUse(settings.bridge)) {
      throw std::runtime_error("bridge " + settings.bridge + " is used by another network");
    }
  }
  if (request.options.count("bridge") && os_.LinkExists(settings.bridge)) {
    throw std::runtime_error("a link named " + settings.bridge +
                             " already exists; choose another name with -o bridge=NAME");
  }
  Network network{settings, request.options,
                  route_source_.InitialSubnets(request.network_id, settings.daemon,
                                               settings.configured_subnets)};
  std::sort(network.subnets.begin(), network.subnets.end());
  os_.EnsureBridge(settings.bridge, settings.gateway);
  try {
    os_.AllowBridgeForwarding(settings.bridge);
    std::lock_guard lock(mu_);
    networks_[request.network_id] = network;
    Save();
  } catch (...) {
    {
      std::lock_guard lock(mu_);
      networks_.erase(request.network_id);
    }
    RevokeForwardingQuietly(settings.bridge);
    os_.DeleteLink(settings.bridge);
    throw;
  }
  spdlog::info("created network {} (bridge {}, gateway {}, daemon {}, {} cluster subnet(s))",
               Short(request.network_id), settings.bridge, settings.gateway.ToString(),
               settings.daemon.ToString(), network.subnets.size());
}

void TelerouteDriver::DeleteNetwork(const std::string& network_id) {
  std::lock_guard changes(changes_mu_);
  std::string bridge;
  std::vector<std::string> links;
  {
    std::lock_guard lock(mu_);
    bridge = FindNetwork(network_id).settings.bridge;
    for (const auto& [id, endpoint] : endpoints_) {
      if (endpoint.network_id == network_id) links.push_back(endpoint.host_link);
    }
  }
  for (const std::string& link : links) os_.DeleteLink(link);
  RevokeForwardingQuietly(bridge);
  os_.DeleteLink(bridge);
  std::lock_guard lock(mu_);
  std::erase_if(endpoints_,
                [&](const auto& entry) { return entry.second.network_id == network_id; });
  networks_.erase(network_id);
  Save();
  spdlog::info("deleted network {} (bridge {})", Short(network_id), bridge);
}

EndpointInterface TelerouteDriver::CreateEndpoint(const CreateEndpointRequest& request) {
  if (request.interface.address.empty()) {
    throw std::invalid_argument(
        "teleroute needs the endpoint's IPv4 address from Docker's IPAM (do not use "
        "--ipam-driver null)");
  }
  if (!request.interface.address_ipv6.empty()) {
    throw std::invalid_argument("teleroute does not support IPv6 endpoints");
  }
  const Ipv4Prefix address = RequirePrefix(request.interface.address, "endpoint address");
  std::lock_guard changes(changes_mu_);
  Endpoint endpoint{request.network_id, address, HostVethName(request.endpoint_id),
                    ContainerVethName(request.endpoint_id), ""};
  std::string bridge;
  {
    std::lock_guard lock(mu_);
    const Network& network = FindNetwork(request.network_id);
    if (!network.settings.pool.Contains(address.address)) {
      throw std::invalid_argument("endpoint address " + address.ToString() + " is not inside " +
                                  network.settings.pool.ToString());
    }
    auto it = endpoints_.find(request.endpoint_id);
    if (it != endpoints_.end()) {
      if (it->second.network_id == request.network_id && it->second.address == address) {
        return ReplyFor(request, address);
      }
      throw std::runtime_error("endpoint " + Short(request.endpoint_id) + " already exists");
    }
    bridge = network.settings.bridge;
  }
  os_.EnsureVethPair(endpoint.host_link, endpoint.container_link, bridge);
  try {
    std::lock_guard lock(mu_);
    endpoints_[request.endpoint_id] = endpoint;
    Save();
  } catch (...) {
    {
      std::lock_guard lock(mu_);
      endpoints_.erase(request.endpoint_id);
    }
    os_.DeleteLink(endpoint.host_link);
    throw;
  }
  spdlog::info("created endpoint {} ({} on {}, veth {}/{})", Short(request.endpoint_id),
               address.ToString(), bridge, endpoint.host_link, endpoint.container_link);
  return ReplyFor(request, address);
}

void TelerouteDriver::DeleteEndpoint(const std::string& network_id,
                                     const std::string& endpoint_id) {
  std::lock_guard changes(changes_mu_);
  std::string link;
  {
    std::lock_guard lock(mu_);
    link = FindEndpoint(network_id, endpoint_id).host_link;
  }
  os_.DeleteLink(link);
  std::lock_guard lock(mu_);
  endpoints_.erase(endpoint_id);
  Save();
  spdlog::info("deleted endpoint {} (veth {})", Short(endpoint_id), link);
}

std::map<std::string, std::string> TelerouteDriver::EndpointOperInfo(
    const std::string& network_id, const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  FindEndpoint(network_id, endpoint_id);
  return {};
}

JoinReply TelerouteDriver::Join(const JoinRequest& request) {
  EnsureForwarding(request.network_id);
  std::lock_guard lock(mu_);
  Endpoint& endpoint = FindEndpoint(request.network_id, request.endpoint_id);
  const std::string previous = endpoint.sandbox_key;
  endpoint.sandbox_key = request.sandbox_key;
  try {
    Save();
  } catch (...) {
    endpoint.sandbox_key = previous;
    throw;
  }
  JoinReply reply;
  reply.src_name = endpoint.container_link;
  reply.static_routes = RoutesFor(FindNetwork(request.network_id), endpoint);
  spdlog::info("endpoint {} joined {} with {} route(s)", Short(request.endpoint_id),
               request.sandbox_key, reply.static_routes.size());
  return reply;
}

void TelerouteDriver::Leave(const std::string& network_id, const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  Endpoint& endpoint = FindEndpoint(network_id, endpoint_id);
  endpoint.sandbox_key.clear();
  Save();
  spdlog::info("endpoint {} left", Short(endpoint_id));
}

void TelerouteDriver::ProgramExternalConnectivity(const std::string& network_id,
                                                  const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  FindEndpoint(network_id, endpoint_id);
}

void TelerouteDriver::RevokeExternalConnectivity(const std::string& network_id,
                                                 const std::string& endpoint_id) {
  std::lock_guard lock(mu_);
  FindEndpoint(network_id, endpoint_id);
}

std::vector<std::string> TelerouteDriver::UpdateRoutes(const std::string& network_id,
                                                       const std::vector<Ipv4Prefix>& subnets) {
  std::vector<Ipv4Prefix> wanted = subnets;
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::lock_guard changes(changes_mu_);
  std::vector<Ipv4Prefix> added, removed;
  std::vector<std::pair<std::string, std::string>> sandboxes;  // endpoint id, sandbox key
  Ipv4Address daemon;
  {
    std::lock_guard lock(mu_);
    FindNetwork(network_id);  // throws for an unknown network
    Network& network = networks_.at(network_id);
    added = Difference(wanted, network.subnets);
    removed = Difference(network.subnets, wanted);
    const std::vector<Ipv4Prefix> previous = network.subnets;
    network.subnets = wanted;
    try {
      Save();
    } catch (...) {
      network.subnets = previous;
      throw;
    }
    daemon = network.settings.daemon;
    for (const auto& [id, endpoint] : endpoints_) {
      if (endpoint.network_id != network_id || endpoint.sandbox_key.empty()) continue;
      if (endpoint.address.address == daemon) continue;
      sandboxes.emplace_back(id, endpoint.sandbox_key);
    }
  }
  std::vector<std::string> problems;
  for (const auto& [id, sandbox] : sandboxes) {
    try {
      for (const Ipv4Prefix& subnet : removed) os_.RemoveRoute(sandbox, subnet, daemon);
      for (const Ipv4Prefix& subnet : added) os_.AddRoute(sandbox, subnet, daemon);
    } catch (const std::exception& error) {
      problems.push_back("endpoint " + Short(id) + ": " + error.what());
      spdlog::warn("routes of endpoint {} not updated: {}", Short(id), error.what());
    }
  }
  spdlog::info("network {}: {} subnet(s) added, {} removed, {} container(s) updated",
               Short(network_id), added.size(), removed.size(), sandboxes.size() - problems.size());
  return problems;
}

std::vector<Ipv4Prefix> TelerouteDriver::Subnets(const std::string& network_id) const {
  std::lock_guard lock(mu_);
  return FindNetwork(network_id).subnets;
}

const TelerouteDriver::Network& TelerouteDriver::FindNetwork(const std::string& network_id) const {
  auto it = networks_.find(network_id);
  if (it == networks_.end()) {
    throw std::runtime_error("no such teleroute network " + Short(network_id));
  }
  return it->second;
}

TelerouteDriver::Endpoint& TelerouteDriver::FindEndpoint(const std::string& network_id,
                                                         const std::string& endpoint_id) {
  FindNetwork(network_id);
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end() || it->second.network_id != network_id) {
    throw std::runtime_error("no such endpoint " + Short(endpoint_id) + " on teleroute network " +
                             Short(network_id));
  }
  return it->second;
}

std::vector<DaemonFeed> TelerouteDriver::DaemonFeeds() const {
  std::lock_guard lock(mu_);
  std::vector<DaemonFeed> feeds;
  for (const auto& [id, network] : networks_) {
    feeds.push_back({id, network.settings.daemon, network.settings.control_port});
  }
  return feeds;
}

void TelerouteDriver::EnsureForwarding(const std::string& network_id) {
  std::string bridge;
  {
    std::lock_guard lock(mu_);
    bridge = FindNetwork(network_id).settings.bridge;
  }
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

bool TelerouteDriver::BridgeInUse(const std::string& bridge) const {
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const auto& entry) { return entry.second.settings.bridge == bridge; });
}

std::vector<StaticRoute> TelerouteDriver::RoutesFor(const Network& network,
                                                    const Endpoint& endpoint) const {
  std::vector<StaticRoute> routes;
  if (endpoint.address.address == network.settings.daemon) return routes;  // it is the gateway
  for (const Ipv4Prefix& subnet : network.subnets) {
    routes.push_back({subnet.ToString(), 0, network.settings.daemon.ToString()});
  }
  return routes;
}

void TelerouteDriver::RestoreLinks() {
  std::map<std::string, Network> networks;
  std::map<std::string, Endpoint> endpoints;
  {
    std::lock_guard lock(mu_);
    networks = networks_;
    endpoints = endpoints_;
  }
  for (const auto& [network_id, network] : networks) {
    try {
      os_.EnsureBridge(network.settings.bridge, network.settings.gateway);
      os_.AllowBridgeForwarding(network.settings.bridge);
    } catch (const std::exception& error) {
      spdlog::error("cannot restore bridge {} of network {}: {}", network.settings.bridge,
                    Short(network_id), error.what());
      continue;
    }
    for (const auto& [endpoint_id, endpoint] : endpoints) {
      if (endpoint.network_id != network_id) continue;
      if (!endpoint.sandbox_key.empty() && !os_.LinkExists(endpoint.host_link)) {
        spdlog::warn("veth {} of joined endpoint {} is gone; its container lost the network",
                     endpoint.host_link, Short(endpoint_id));
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

void TelerouteDriver::Load() {
  std::optional<std::string> text = ReadWholeFile(state_file_);
  if (!text) return;  // first start
  try {
    const json state = json::parse(*text);
    std::map<std::string, Network> networks;
    std::map<std::string, Endpoint> endpoints;
    for (const json& entry : state.at("networks")) {
      Network network;
      network.settings.bridge = entry.at("bridge").get<std::string>();
      network.settings.pool = RequirePrefix(entry.at("pool").get<std::string>(), "saved pool");
      network.settings.gateway =
          RequirePrefix(entry.at("gateway").get<std::string>(), "saved gateway");
      network.settings.daemon =
          ParseIpv4Address(entry.at("daemon").get<std::string>()).value_or(Ipv4Address{});
      network.settings.configured_subnets = PrefixesFromJson(entry.at("configured_subnets"));
      network.settings.control_port = entry.value("control_port", kDefaultControlPort);
      network.options = entry.at("options").get<std::map<std::string, std::string>>();
      network.subnets = PrefixesFromJson(entry.at("subnets"));
      networks[entry.at("id").get<std::string>()] = network;
    }
    for (const json& entry : state.at("endpoints")) {
      endpoints[entry.at("id").get<std::string>()] = Endpoint{
          entry.at("network_id").get<std::string>(),
          RequirePrefix(entry.at("address").get<std::string>(), "saved address"),
          entry.at("host_link").get<std::string>(),
          entry.at("container_link").get<std::string>(),
          entry.at("sandbox_key").get<std::string>(),
      };
    }
    std::lock_guard lock(mu_);
    networks_ = std::move(networks);
    endpoints_ = std::move(endpoints);
    spdlog::info("loaded {} network(s) and {} endpoint(s) from {}", networks_.size(),
                 endpoints_.size(), state_file_);
  } catch (const std::exception& error) {
    const std::string aside = state_file_ + ".corrupt";
    spdlog::error("{} is unreadable ({}); moved to {}, starting with no networks", state_file_,
                  error.what(), aside);
    std::error_code ignored;
    fs::rename(state_file_, aside, ignored);
  }
}

void TelerouteDriver::Save() const {
  json networks = json::array();
  for (const auto& [id, network] : networks_) {
    const NetworkSettings& settings = network.settings;
    networks.push_back({{"id", id},
                        {"bridge", settings.bridge},
                        {"pool", settings.pool.ToString()},
                        {"gateway", settings.gateway.ToString()},
                        {"daemon", settings.daemon.ToString()},
                        {"control_port", settings.control_port},
                        {"configured_subnets", PrefixesToJson(settings.configured_subnets)},
                        {"options", network.options},
                        {"subnets", PrefixesToJson(network.subnets)}});
  }
  json endpoints = json::array();
  for (const auto& [id, endpoint] : endpoints_) {
    endpoints.push_back({{"id", id},
                         {"network_id", endpoint.network_id},
                         {"address", endpoint.address.ToString()},
                         {"host_link", endpoint.host_link},
                         {"container_link", endpoint.container_link},
                         {"sandbox_key", endpoint.sandbox_key}});
  }
  const json state = {{"version", 1}, {"networks", networks}, {"endpoints", endpoints}};
  WriteFileAtomically(state_file_, state.dump(2) + "\n");
}

}  // namespace tp::teleroute
