// What a Teleroute network and its endpoints are called and configured with, derived from
// dockerd's requests: pure functions, no state, no I/O. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ipv4.h"
#include "common/ipv6.h"
#include "teleroute/network_driver.h"

namespace tp::teleroute {

// The daemon's control API port inside its container (daemon/main.cc's default).
inline constexpr uint16_t kDefaultControlPort = 8787;

// The cluster subnets a network routes via its daemon, per family; each list sorted and unique.
struct ClusterSubnets {
  std::vector<Ipv4Prefix> ipv4{};
  std::vector<Ipv6Prefix> ipv6{};
  bool operator==(const ClusterSubnets&) const = default;
};

// "10.96.0.0/12, fd00:96::/108": a comma-separated list of networks of either family; spaces
// and empty items are ignored. Throws std::invalid_argument naming the bad item (host bits set
// included). The lists come out sorted and free of duplicates.
ClusterSubnets ParseClusterSubnets(std::string_view text);
// Sorts both lists and drops duplicates.
void Normalize(ClusterSubnets& subnets);

// The IPv6 half of a dual-stack network (docker network create --ipv6 --subnet V6 ...).
struct Ipv6Settings {
  Ipv6Prefix pool;     // fd74:656c::/64
  Ipv6Prefix gateway;  // fd74:656c::1/64: the bridge's address
  Ipv6Address daemon;  // the daemon container's address on the network (option daemon6)
  bool operator==(const Ipv6Settings&) const = default;
};

// The settings of a network, from CreateNetwork's options and IPAM data.
struct NetworkSettings {
  std::string bridge;
  Ipv4Prefix pool;                              // 10.1.0.0/24
  Ipv4Prefix gateway;                           // 10.1.0.1/24: the bridge's address
  Ipv4Address daemon;                           // the daemon container's address on the network
  std::optional<Ipv6Settings> ipv6;             // only for a network created with --ipv6
  uint16_t control_port = kDefaultControlPort;  // the daemon's control API port there
  ClusterSubnets configured_subnets;            // the `subnets` option
  bool operator==(const NetworkSettings&) const = default;
};

// Where the cluster subnets of a network come from: the daemon's control API.
struct DaemonFeed {
  std::string network_id;
  Ipv4Address daemon;
  uint16_t control_port;
};

// Validates a CreateNetwork request: options `daemon` (required), `daemon6` (required with
// --ipv6, refused without), `subnets`, `control`, `bridge`; one IPv4 pool with a gateway, and
// with --ipv6 one IPv6 pool with a gateway. Throws std::invalid_argument with a sentence for the
// user.
NetworkSettings ParseNetworkSettings(const CreateNetworkRequest& request);

// The MAC address of an endpoint with that IPv4 address: 02:42 and the four address bytes.
std::string MacAddressFor(Ipv4Address address);

// The default bridge name, "tr-" + the first 12 characters of the network id.
std::string DefaultBridgeName(const std::string& network_id);
// The veth names of an endpoint, "trv" / "trc" + 12 hex digits of a hash of its id (15 chars).
std::string HostVethName(const std::string& endpoint_id);
std::string ContainerVethName(const std::string& endpoint_id);

// `text` as an IPv4 prefix; throws std::invalid_argument naming `what` when it is not one.
Ipv4Prefix RequirePrefix(const std::string& text, const std::string& what);
// The first 12 characters of a Docker id, as logs and messages show it.
std::string ShortId(const std::string& id);

}  // namespace tp::teleroute
