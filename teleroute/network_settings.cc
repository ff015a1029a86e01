#include "teleroute/network_settings.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>

namespace tp::teleroute {
namespace {

constexpr size_t kMaxLinkName = 15;  // IFNAMSIZ - 1

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

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
    if (name != "daemon" && name != "daemon6" && name != "subnets" && name != "bridge" &&
        name != "control") {
      throw std::invalid_argument(
          "unknown option " + Quoted(name) +
          " (teleroute knows daemon, daemon6, subnets, control and bridge)");
    }
  }
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

Ipv6Settings ParseIpv6Settings(const CreateNetworkRequest& request) {
  if (request.ipv6_data.size() != 1) {
    throw std::invalid_argument(
        "teleroute needs exactly one IPv6 subnet on a network with --ipv6, "
        "got " +
        std::to_string(request.ipv6_data.size()));
  }
  const IpamData& ipam = request.ipv6_data.front();
  Ipv6Settings settings;
  const std::optional<Ipv6Prefix> pool = ParseIpv6Prefix(ipam.pool);
  if (!pool) throw std::invalid_argument("IPv6 pool \"" + ipam.pool + "\" is not an IPv6 ip/len");
  settings.pool = pool->Network();
  const std::optional<Ipv6Prefix> gateway = ParseIpv6Prefix(ipam.gateway);
  if (!gateway || !settings.pool.Contains(gateway->Address())) {
    throw std::invalid_argument("the IPv6 pool " + ipam.pool + " has no gateway address inside it");
  }
  settings.gateway = Ipv6Prefix{gateway->address, settings.pool.length};
  auto daemon = request.options.find("daemon6");
  if (daemon == request.options.end() || daemon->second.empty()) {
    throw std::invalid_argument(
        "option daemon6 is required on a network with --ipv6: the daemon container's IPv6 "
        "address on this network (-o daemon6=IP)");
  }
  const std::optional<Ipv6Address> address = ParseIpv6Address(daemon->second);
  if (!address || !settings.pool.Contains(*address)) {
    throw std::invalid_argument("option daemon6=" + daemon->second +
                                " is not an IPv6 address inside the subnet " +
                                settings.pool.ToString() + " of the network");
  }
  if (*address == settings.gateway.Address() || *address == settings.pool.Address()) {
    throw std::invalid_argument("option daemon6=" + daemon->second +
                                " is the network's gateway or subnet address; choose another one");
  }
  settings.daemon = *address;
  return settings;
}

}  // namespace

Ipv4Prefix RequirePrefix(const std::string& text, const std::string& what) {
  std::optional<Ipv4Prefix> prefix = ParseIpv4Prefix(text);
  if (!prefix) throw std::invalid_argument(what + " \"" + text + "\" is not an IPv4 ip/len");
  return *prefix;
}

std::string ShortId(const std::string& id) { return id.substr(0, 12); }

std::string MacAddressFor(Ipv4Address address) {
  char text[18];
  const uint32_t value = address.value;
  std::snprintf(text, sizeof(text), "02:42:%02x:%02x:%02x:%02x", (value >> 24) & 0xff,
                (value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff);
  return text;
}

std::string DefaultBridgeName(const std::string& network_id) { return "tr-" + ShortId(network_id); }
std::string HostVethName(const std::string& endpoint_id) {
  return "trv" + HashedSuffix(endpoint_id);
}
std::string ContainerVethName(const std::string& endpoint_id) {
  return "trc" + HashedSuffix(endpoint_id);
}

ClusterSubnets ParseClusterSubnets(std::string_view text) {
  ClusterSubnets subnets;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    if (item.find(':') == std::string_view::npos) {
      const std::vector<Ipv4Prefix> one = ParseSubnetList(item);
      subnets.ipv4.insert(subnets.ipv4.end(), one.begin(), one.end());
      continue;
    }
    std::string reason;
    const std::optional<Ipv6Prefix> subnet = ParseIpv6Cidr(item, reason);
    if (!subnet) {
      throw std::invalid_argument("\"" + std::string(item) + "\" is not an IPv6 subnet: " + reason);
    }
    subnets.ipv6.push_back(*subnet);
  }
  Normalize(subnets);
  return subnets;
}

void Normalize(ClusterSubnets& subnets) {
  std::sort(subnets.ipv4.begin(), subnets.ipv4.end());
  subnets.ipv4.erase(std::unique(subnets.ipv4.begin(), subnets.ipv4.end()), subnets.ipv4.end());
  std::sort(subnets.ipv6.begin(), subnets.ipv6.end());
  subnets.ipv6.erase(std::unique(subnets.ipv6.begin(), subnets.ipv6.end()), subnets.ipv6.end());
}

NetworkSettings ParseNetworkSettings(const CreateNetworkRequest& request) {
  if (!request.enable_ipv6 && !request.ipv6_data.empty()) {
    throw std::invalid_argument("an IPv6 subnet was given without --ipv6");
  }
  if (!request.enable_ipv6 && request.options.count("daemon6") != 0) {
    throw std::invalid_argument("option daemon6 needs a network with --ipv6 and an IPv6 subnet");
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
  if (request.enable_ipv6) settings.ipv6 = ParseIpv6Settings(request);
  settings.bridge = ParseBridgeOption(request.options, request.network_id);
  settings.control_port = ParseControlOption(request.options);
  auto subnets = request.options.find("subnets");
  if (subnets != request.options.end()) {
    try {
      settings.configured_subnets = ParseClusterSubnets(subnets->second);
    } catch (const std::invalid_argument& error) {
      throw std::invalid_argument(std::string("option subnets: ") + error.what());
    }
  }
  return settings;
}

}  // namespace tp::teleroute
