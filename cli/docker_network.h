// Docker networks as the CLI sees them: the fields of `docker network inspect` it uses (name,
// driver, IPAM subnets, driver options, labels, attached containers), and the parser of that
// command's JSON output. Pure: no I/O.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"
#include "common/ipv4.h"

namespace tp::cli {

// A container attached to a network.
struct NetworkContainer {
  std::string id{};
  std::string name{};
  std::string ipv4_address{};  // "10.200.0.2/24" as Docker shows it; empty when none
};

struct DockerNetwork {
  std::string name{};
  std::string id{};
  std::string driver{};                          // "bridge", "teleroute:latest", ...
  std::vector<std::string> subnets{};            // IPAM subnets as Docker lists them (IPv4 or 6)
  std::vector<std::string> gateways{};           // IPAM gateways, where given
  std::map<std::string, std::string> options{};  // driver options (-o KEY=VALUE)
  std::map<std::string, std::string> labels{};
  std::vector<NetworkContainer> containers{};  // sorted by name
};

// Parses the output of `docker network inspect NAME...` (a JSON array of network objects).
// Missing or null fields stay empty. Error: not JSON, or not an array of objects, or a field of
// the wrong type (the sentence says which).
Result<std::vector<DockerNetwork>> ParseNetworkInspect(std::string_view output);

// The address of a network interface of this host ("docker0" -> 172.17.0.1/16), nullopt when
// there is no such interface or it has no IPv4 address.
using InterfaceAddressLookup = std::function<std::optional<Ipv4Prefix>(const std::string& name)>;

// The IPv4 gateway of Docker's default bridge network `bridge` (what its containers reach the
// host at): IPAM's Gateway when given; else (an engine's first start leaves it out) the address
// of the bridge interface (driver option com.docker.network.bridge.name, else docker0) when
// `interface_address` finds it inside the network's IPv4 subnet; else that subnet's first
// address. nullopt when the network has no IPv4 subnet. The one rule, shared with the scripts'
// scripts/lib/docker-bridge.sh.
std::optional<Ipv4Address> DefaultBridgeGateway(const DockerNetwork& bridge,
                                                const InterfaceAddressLookup& interface_address);

}  // namespace tp::cli
