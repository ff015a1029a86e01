// The Teleroute network of a context: the Docker network tp-<ctx> of the managed network plugin
// teleroute:latest, on which the daemon container tp-<ctx>-cn is the gateway to the cluster and
// every container run with `telepresence docker-run` gets the cluster's routes and DNS.
//
// `connect --docker` creates it as
//   docker network create -d teleroute:latest --subnet S --gateway G -o daemon=D
//     [-o subnets=C1,C2] -o control=8787 --label telepresence.context=<ctx> tp-<ctx>
// where S is an IPv4 subnet that overlaps neither the cluster's subnets nor any Docker network
// (--docker-subnet, or the first free /24 from 10.200.0.0/16 on), G its first host address and
// D its second (the daemon's address on it), C the cluster's subnets (the option is left out when
// there are none), 8787 the daemon's control API port inside its container. It then attaches the
// daemon with `docker network connect --ip D tp-<ctx> tp-<ctx>-cn`.
//
// The planning functions are pure; RemoveTelerouteNetwork and FindTelerouteNetwork act on Docker.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/docker_client.h"
#include "cli/docker_network.h"
#include "cli/result.h"
#include "common/ipv4.h"
#include "common/ipv6.h"

namespace tp::cli {

inline constexpr std::string_view kTelerouteDriver = "teleroute:latest";
// The label on the network; its value is the context name.
inline constexpr std::string_view kNetworkContextLabel = "telepresence.context";
// Docker makes its network docker_gwbridge for the outside access of the first container on a
// network like ours, and keeps it. This label on tp-<ctx> says whether it was there before
// ("preexisting") or came with us ("ours"): quit removes it in the second case once unused.
inline constexpr std::string_view kGatewayBridgeLabel = "telepresence.docker_gwbridge";
inline constexpr std::string_view kGatewayBridge = "docker_gwbridge";
// The prefix lengths --docker-subnet accepts: room for a few containers, at most a /16.
inline constexpr int kShortestDockerSubnet = 16;
inline constexpr int kLongestDockerSubnet = 29;
// Where a subnet is looked for when none is given: /24s of 10.200.0.0/16, 10.201.0.0/16, ...
// up to 10.255.0.0/16, in order.
inline constexpr int kAutoSubnetFirstBlock = 200;
inline constexpr int kAutoSubnetLastBlock = 255;
inline constexpr int kAutoSubnetLength = 24;

// Where the IPv6 subnet of a dual-stack network is looked for: the first /112 of each of its
// /64s, in order (the whole /64 must be free).
inline constexpr std::string_view kAutoIpv6Block = "fd74:656c:6570::/48";
inline constexpr int kIpv6SubnetLength = 112;

// tp-<ctx>. Precondition: IsValidContextName(context_name).
std::string TelerouteNetworkName(std::string_view context_name);

// The IPv6 half of a dual-stack network, when the cluster has IPv6 subnets:
//   docker network create ... --ipv6 --subnet S6/112 --gateway S6::1 --ip-range S6::8000/113
//     -o daemon6=S6::2, and docker network connect ... --ip6 S6::2
struct TelerouteIpv6Spec {
  Ipv6Prefix subnet{};           // a /112 of a free /64 of kAutoIpv6Block
  Ipv6Address gateway{};         // subnet::1
  Ipv6Address daemon{};          // subnet::2
  Ipv6Prefix container_range{};  // the subnet's upper half, as for IPv4
};

// Everything `docker network create` gets for a context's network.
struct TelerouteNetworkSpec {
  std::string name{};  // tp-<ctx>
  std::string context_name{};
  Ipv4Prefix subnet{};
  Ipv4Address gateway{};  // subnet + 1
  Ipv4Address daemon{};   // subnet + 2
  // The subnet's upper half: Docker's IPAM gives containers addresses there only, so that the
  // daemon's address stays free while the daemon restarts.
  Ipv4Prefix container_range{};
  bool gateway_bridge_existed = true;          // docker_gwbridge was there before the network
  std::vector<Ipv4Prefix> cluster_subnets{};   // routed via the daemon
  std::vector<Ipv6Prefix> cluster_subnets6{};  // routed via the daemon when `ipv6` is set
  std::optional<TelerouteIpv6Spec> ipv6{};
  uint16_t control_port = kDaemonControlPort;
};

// Removes docker_gwbridge when no container uses it (Docker makes it again when needed).
void RemoveUnusedGatewayBridge(DockerApi& docker);

// What the Engine API's network create gets for `spec` (format above).
docker::NetworkSpec NetworkCreateSpec(const TelerouteNetworkSpec& spec);

// A subnet that the new network must not overlap, and what has it ("the cluster subnet
// 10.213.0.0/24", "the Docker network tp-demo (10.213.0.0/24)").
struct TakenSubnet {
  Ipv4Prefix subnet{};
  std::string owner{};
};

// The IPv4 subnets of the cluster and of the Docker networks, except the network named
// `except_network` (the one about to be replaced). IPv6 and unreadable subnets are skipped.
std::vector<TakenSubnet> TakenSubnets(const std::vector<std::string>& cluster_subnets,
                                      const std::vector<DockerNetwork>& networks,
                                      std::string_view except_network);

// The IPv6 subnets of the cluster and of the Docker networks (but `except_network`).
std::vector<Ipv6Prefix> TakenIpv6Subnets(const std::vector<std::string>& cluster_subnets,
                                         const std::vector<DockerNetwork>& networks,
                                         std::string_view except_network);

// The IPv6 half for a network whose cluster has IPv6 subnets: the first /64 of kAutoIpv6Block
// that overlaps nothing in `taken`. nullopt when the cluster has no IPv6 subnet (an IPv4-only
// network then), or when every /64 there is taken.
std::optional<TelerouteIpv6Spec> PlanIpv6Half(const std::vector<std::string>& cluster_subnets,
                                              const std::vector<Ipv6Prefix>& taken);

// --docker-subnet's value: an IPv4 network "a.b.c.d/n" without host bits, n in 16..29. The error
// says what is wrong and gives an example.
Result<Ipv4Prefix> ParseDockerSubnet(std::string_view text);

// The subnet for the network: `requested` when it overlaps nothing in `taken` (else an error
// naming the clash), or the first free /24 of the automatic range (else an error saying what was
// scanned).
Result<Ipv4Prefix> ChooseSubnet(const std::optional<Ipv4Prefix>& requested,
                                const std::vector<TakenSubnet>& taken);

// The spec for `subnet` (gateway .1, daemon .2) and the cluster subnets of both families (the
// IPv6 half, when wanted, is set by the caller: PlanIpv6Half).
TelerouteNetworkSpec PlanTelerouteNetwork(std::string_view context_name, const Ipv4Prefix& subnet,
                                          const std::vector<std::string>& cluster_subnets);

// The Teleroute network of a context as status and docker-run show and use it.
struct TelerouteNetworkInfo {
  std::string name{};
  std::string subnet{};          // "10.200.0.0/24", or "" when Docker shows none
  std::string daemon_address{};  // "10.200.0.2"; "" when unknown
  std::string subnet6{};         // "fd74:656c:6570::/64" for a dual-stack network, else ""
  bool daemon_attached = false;  // the daemon container is on it
};

// What `network` (tp-<ctx>) says: the daemon's address from its "daemon" option, else from the
// daemon container's endpoint on it.
TelerouteNetworkInfo DescribeTelerouteNetwork(const DockerNetwork& network,
                                              std::string_view daemon_container);

// "tp-default (10.200.0.0/24, daemon 10.200.0.2)".
std::string FormatTelerouteNetwork(const TelerouteNetworkInfo& info);

// Looks up tp-<ctx>; nullopt when it does not exist.
Result<std::optional<TelerouteNetworkInfo>> FindTelerouteNetwork(DockerApi& docker,
                                                                 std::string_view context_name);

// Removes the network `name` after force-disconnecting every container still on it, then
// docker_gwbridge if the network's label says it came with us and nothing uses it. Returns the
// names of the containers it disconnected; removing a network that does not exist succeeds.
Result<std::vector<std::string>> RemoveTelerouteNetwork(DockerApi& docker, const std::string& name);

}  // namespace tp::cli
