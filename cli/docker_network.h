// Docker networks as the CLI sees them (the Engine API's NetworkInfo), and the default bridge's
// gateway rule. Pure: no I/O.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"
#include "common/ipv4.h"
#include "docker_engine/engine_types.h"

namespace tp::cli {

// A container attached to a network, and a network as the CLI reads it: the Engine API's types
// (docker_engine/engine_types.h has their one codec).
using NetworkContainer = docker::NetworkEndpoint;
using DockerNetwork = docker::NetworkInfo;

// The IPv4 address (without prefix length) of `container` (its name or id) on `network`; nullopt
// when it has none there.
std::optional<std::string> ContainerAddressIn(const DockerNetwork& network,
                                              const std::string& container);

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
