#include "cli/teleroute_network.h"

#include <algorithm>

namespace tp::cli {
namespace {

bool Overlaps(const Ipv4Prefix& a, const Ipv4Prefix& b) { return a.Contains(b) || b.Contains(a); }

const TakenSubnet* FirstClash(const Ipv4Prefix& subnet, const std::vector<TakenSubnet>& taken) {
  auto clash = std::find_if(taken.begin(), taken.end(), [&subnet](const TakenSubnet& other) {
    return Overlaps(subnet, other.subnet);
  });
  return clash == taken.end() ? nullptr : &*clash;
}

Ipv4Address Plus(const Ipv4Prefix& subnet, uint32_t offset) {
  return Ipv4Address{subnet.Network().address.value + offset};
}

std::string JoinPrefixes(const std::vector<Ipv4Prefix>& prefixes) {
  std::string joined;
  for (const Ipv4Prefix& prefix : prefixes)
    joined += (joined.empty() ? "" : ",") + prefix.ToString();
  return joined;
}

std::string BlockText(int block) { return "10." + std::to_string(block) + ".0.0/16"; }

// "a.b.c.d/n" from Docker's "a.b.c.d/n" endpoint address: just the address.
std::string AddressPart(const std::string& address_with_length) {
  return address_with_length.substr(0, address_with_length.find('/'));
}

}  // namespace

std::string TelerouteNetworkName(std::string_view context_name) {
  return "tp-" + std::string(context_name);
}

namespace {

// `prefix` with its last byte replaced by `last`: "fd00::/64", 2 -> fd00::2.
Ipv6Address WithLastByte(const Ipv6Prefix& prefix, uint8_t last) {
  Ipv6Address address{prefix.address};
  address.bytes[15] = last;
  return address;
}

bool HasIpv6Subnet(const std::vector<std::string>& cluster_subnets) {
  for (const std::string& text : cluster_subnets) {
    std::string reason;
    if (ParseIpv6Cidr(text, reason)) return true;
  }
  return false;
}

}  // namespace

docker::NetworkSpec NetworkCreateSpec(const TelerouteNetworkSpec& spec) {
  docker::NetworkSpec network{.name = spec.name,
                              .driver = std::string(kTelerouteDriver),
                              .pools = {{.subnet = spec.subnet.ToString(),
                                         .gateway = spec.gateway.ToString(),
                                         .ip_range = spec.container_range.ToString()}},
                              .options = {{"daemon", spec.daemon.ToString()},
                                          {"control", std::to_string(spec.control_port)}},
                              .labels = {{std::string(kNetworkContextLabel), spec.context_name},
                                         {std::string(kGatewayBridgeLabel),
                                          spec.gateway_bridge_existed ? "preexisting" : "ours"}}};
  std::string subnets = JoinPrefixes(spec.cluster_subnets);
  for (const Ipv6Prefix& prefix : spec.cluster_subnets6) {
    subnets += (subnets.empty() ? "" : ",") + prefix.ToString();
  }
  if (!subnets.empty()) network.options["subnets"] = subnets;
  if (spec.ipv6) {
    network.enable_ipv6 = true;
    network.pools.push_back({.subnet = spec.ipv6->subnet.ToString(),
                             .gateway = spec.ipv6->gateway.ToString(),
                             .ip_range = spec.ipv6->container_range.ToString()});
    network.options["daemon6"] = spec.ipv6->daemon.ToString();
  }
  return network;
}

std::vector<TakenSubnet> TakenSubnets(const std::vector<std::string>& cluster_subnets,
                                      const std::vector<DockerNetwork>& networks,
                                      std::string_view except_network) {
  std::vector<TakenSubnet> taken;
  for (const std::string& text : cluster_subnets) {
    if (std::optional<Ipv4Prefix> subnet = ParseIpv4Prefix(text)) {
      taken.push_back({subnet->Network(), "the cluster subnet " + subnet->Network().ToString()});
    }
  }
  for (const DockerNetwork& network : networks) {
    if (network.name == except_network) continue;
    for (const std::string& text : network.subnets) {
      if (std::optional<Ipv4Prefix> subnet = ParseIpv4Prefix(text)) {
        taken.push_back({subnet->Network(), "the Docker network " + network.name + " (" +
                                                subnet->Network().ToString() + ")"});
      }
    }
  }
  return taken;
}

std::vector<Ipv6Prefix> TakenIpv6Subnets(const std::vector<std::string>& cluster_subnets,
                                         const std::vector<DockerNetwork>& networks,
                                         std::string_view except_network) {
  std::vector<Ipv6Prefix> taken;
  auto add = [&taken](const std::string& text) {
    if (std::optional<Ipv6Prefix> prefix = ParseIpv6Prefix(text)) {
      taken.push_back(prefix->Network());
    }
  };
  for (const std::string& text : cluster_subnets) add(text);
  for (const DockerNetwork& network : networks) {
    if (network.name == except_network) continue;
    for (const std::string& text : network.subnets) add(text);
  }
  return taken;
}

std::optional<TelerouteIpv6Spec> PlanIpv6Half(const std::vector<std::string>& cluster_subnets,
                                              const std::vector<Ipv6Prefix>& taken) {
  if (!HasIpv6Subnet(cluster_subnets)) return std::nullopt;
  const std::optional<Ipv6Prefix> block = ParseIpv6Prefix(kAutoIpv6Block);
  for (uint32_t index = 0; block && index <= 0xffff; ++index) {
    Ipv6Prefix candidate{block->address, 64};
    candidate.address[6] = static_cast<uint8_t>(index >> 8);
    candidate.address[7] = static_cast<uint8_t>(index & 0xff);
    const bool clash = std::any_of(taken.begin(), taken.end(), [&](const Ipv6Prefix& other) {
      return candidate.Contains(other) || other.Contains(candidate);
    });
    if (clash) continue;
    // Docker's IPAM cannot split a range of more than 2^63 addresses: a /112 of the /64 it is.
    const Ipv6Prefix subnet{candidate.address, kIpv6SubnetLength};
    Ipv6Prefix upper_half{candidate.address, kIpv6SubnetLength + 1};
    upper_half.address[14] |= 0x80;
    return TelerouteIpv6Spec{.subnet = subnet,
                             .gateway = WithLastByte(subnet, 1),
                             .daemon = WithLastByte(subnet, 2),
                             .container_range = upper_half};
  }
  return std::nullopt;
}

Result<Ipv4Prefix> ParseDockerSubnet(std::string_view text) {
  const std::string example = "; give an IPv4 network such as 10.200.0.0/24";
  std::string reason;
  std::optional<Ipv4Prefix> subnet = ParseIpv4Cidr(text, reason);
  if (!subnet)
    return CliError{"invalid --docker-subnet '" + std::string(text) + "': " + reason + example};
  if (subnet->length < kShortestDockerSubnet || subnet->length > kLongestDockerSubnet) {
    return CliError{"invalid --docker-subnet '" + std::string(text) +
                    "': the prefix length must be from " + std::to_string(kShortestDockerSubnet) +
                    " to " + std::to_string(kLongestDockerSubnet) + example};
  }
  return *subnet;
}

Result<Ipv4Prefix> ChooseSubnet(const std::optional<Ipv4Prefix>& requested,
                                const std::vector<TakenSubnet>& taken) {
  if (requested) {
    const TakenSubnet* clash = FirstClash(*requested, taken);
    if (clash == nullptr) return *requested;
    return CliError{"--docker-subnet " + requested->ToString() + " overlaps " + clash->owner +
                    "; give a subnet that overlaps neither the cluster's subnets nor another "
                    "Docker network"};
  }
  for (int block = kAutoSubnetFirstBlock; block <= kAutoSubnetLastBlock; ++block) {
    for (uint32_t third = 0; third < 256; ++third) {
      uint32_t address = (10u << 24) | (static_cast<uint32_t>(block) << 16) | (third << 8);
      Ipv4Prefix candidate{Ipv4Address{address}, kAutoSubnetLength};
      if (FirstClash(candidate, taken) == nullptr) return candidate;
    }
  }
  return CliError{"no free /" + std::to_string(kAutoSubnetLength) +
                  " for the Teleroute network in " + BlockText(kAutoSubnetFirstBlock) + " to " +
                  BlockText(kAutoSubnetLastBlock) +
                  ": every one overlaps the cluster's subnets or a Docker network; give a free "
                  "subnet with --docker-subnet CIDR"};
}

TelerouteNetworkSpec PlanTelerouteNetwork(std::string_view context_name, const Ipv4Prefix& subnet,
                                          const std::vector<std::string>& cluster_subnets) {
  TelerouteNetworkSpec spec{
      .name = TelerouteNetworkName(context_name),
      .context_name = std::string(context_name),
      .subnet = subnet.Network(),
      .gateway = Plus(subnet, 1),
      .daemon = Plus(subnet, 2),
      .container_range = {Plus(subnet, (~subnet.Mask() + 1) / 2), subnet.length + 1}};
  for (const std::string& text : cluster_subnets) {
    std::string reason;
    if (std::optional<Ipv4Prefix> prefix = ParseIpv4Cidr(text, reason)) {
      spec.cluster_subnets.push_back(*prefix);
    } else if (std::optional<Ipv6Prefix> prefix6 = ParseIpv6Cidr(text, reason)) {
      spec.cluster_subnets6.push_back(*prefix6);
    }
  }
  return spec;
}

TelerouteNetworkInfo DescribeTelerouteNetwork(const DockerNetwork& network,
                                              std::string_view daemon_container) {
  TelerouteNetworkInfo info{.name = network.name};
  for (const std::string& subnet : network.subnets) {
    if (info.subnet.empty() && ParseIpv4Prefix(subnet)) info.subnet = subnet;
    if (info.subnet6.empty() && ParseIpv6Prefix(subnet)) info.subnet6 = subnet;
  }
  for (const NetworkContainer& container : network.containers) {
    if (container.name != daemon_container) continue;
    info.daemon_attached = true;
    info.daemon_address = AddressPart(container.ipv4_address);
  }
  auto option = network.options.find("daemon");
  if (option != network.options.end() && ParseIpv4Address(option->second)) {
    info.daemon_address = option->second;
  }
  return info;
}

std::string FormatTelerouteNetwork(const TelerouteNetworkInfo& info) {
  return info.name + " (" + (info.subnet.empty() ? "no subnet" : info.subnet) +
         (info.subnet6.empty() ? "" : " and " + info.subnet6) + ", daemon " +
         (info.daemon_address.empty() ? "unknown" : info.daemon_address) +
         (info.daemon_attached ? "" : " not attached") + ")";
}

Result<std::optional<TelerouteNetworkInfo>> FindTelerouteNetwork(DockerApi& docker,
                                                                 std::string_view context_name) {
  Result<std::optional<DockerNetwork>> network =
      docker.InspectNetwork(TelerouteNetworkName(context_name));
  if (!network.ok()) return network.error();
  if (!network.value()) return std::optional<TelerouteNetworkInfo>();
  return std::optional<TelerouteNetworkInfo>(
      DescribeTelerouteNetwork(*network.value(), DaemonContainerName(context_name)));
}

void RemoveUnusedGatewayBridge(DockerApi& docker) {
  const std::string name(kGatewayBridge);
  Result<std::optional<DockerNetwork>> bridge = docker.InspectNetwork(name);
  if (!bridge.ok() || !bridge.value() || !bridge.value()->containers.empty()) return;
  docker.Remove(DockerResource::kNetwork, {name});  // best effort: Docker makes it again
}

Result<std::vector<std::string>> RemoveTelerouteNetwork(DockerApi& docker,
                                                        const std::string& name) {
  Result<std::optional<DockerNetwork>> network = docker.InspectNetwork(name);
  if (!network.ok()) return network.error();
  std::vector<std::string> disconnected;
  if (!network.value()) return disconnected;
  std::optional<CliError> disconnect_error;
  for (const NetworkContainer& container : network.value()->containers) {
    Status status = docker.DisconnectFromNetwork(name, container.id);
    if (status.ok()) {
      disconnected.push_back(container.name.empty() ? container.id : container.name);
    } else if (!disconnect_error) {
      disconnect_error = status.error();  // it may have gone meanwhile: the removal decides
    }
  }
  if (Status removed = docker.Remove(DockerResource::kNetwork, {name}); !removed.ok()) {
    return CliError{"cannot remove the network " + name + ": " + removed.error().message +
                    (disconnect_error ? " (after: " + disconnect_error->message + ")" : "")};
  }
  auto label = network.value()->labels.find(std::string(kGatewayBridgeLabel));
  if (label != network.value()->labels.end() && label->second == "ours") {
    RemoveUnusedGatewayBridge(docker);
  }
  return disconnected;
}

}  // namespace tp::cli
