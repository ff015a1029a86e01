// TelerouteDriver is the Teleroute network driver's logic. A network is a Linux bridge in the
// plugin's namespace holding the gateway address; each endpoint is a veth pair whose host side is
// on the bridge. Containers that join get static routes for the cluster subnets via the daemon
// container's address on the network (the daemon's own endpoint gets none), and no gateway, so
// dockerd keeps docker_gwbridge for the default route and published ports. UpdateRoutes pushes a
// new subnet list into every joined container's namespace. Each bridge's frames are let through
// the host's forward filter (NetworkOs::AllowBridgeForwarding) while its network exists.
//
// Networks, endpoints and sandbox keys are persisted atomically in <state_dir>/teleroute.json
// after each change; the constructor loads them and re-creates missing bridges and veths.
//
// Thread-safe. mu_ guards the tables and the state file and is never held across NetworkOs calls;
// changes_mu_ serializes the calls that change links or routes, so the kernel and the tables
// change in step.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "teleroute/network_driver.h"
#include "teleroute/network_os.h"
#include "teleroute/route_source.h"

namespace tp::teleroute {

// The daemon's control API port inside its container (daemon/main.cc's default).
inline constexpr uint16_t kDefaultControlPort = 8787;

// The settings of a network, from CreateNetwork's options and IPAM data.
struct NetworkSettings {
  std::string bridge;
  Ipv4Prefix pool;                              // 10.1.0.0/24
  Ipv4Prefix gateway;                           // 10.1.0.1/24: the bridge's address
  Ipv4Address daemon;                           // the daemon container's address on the network
  uint16_t control_port = kDefaultControlPort;  // the daemon's control API port there
  std::vector<Ipv4Prefix> configured_subnets;   // the `subnets` option
  bool operator==(const NetworkSettings&) const = default;
};

// Where the cluster subnets of a network come from: the daemon's control API.
struct DaemonFeed {
  std::string network_id;
  Ipv4Address daemon;
  uint16_t control_port;
};

// Validates a CreateNetwork request: options `daemon` (required), `subnets`, `control`, `bridge`;
// one IPv4 pool with a gateway; no IPv6. Throws std::invalid_argument with a sentence for the user.
NetworkSettings ParseNetworkSettings(const CreateNetworkRequest& request);

// The MAC address of an endpoint with that IPv4 address: 02:42 and the four address bytes.
std::string MacAddressFor(Ipv4Address address);

// The default bridge name, "tr-" + the first 12 characters of the network id.
std::string DefaultBridgeName(const std::string& network_id);
// The veth names of an endpoint, "trv" / "trc" + 12 hex digits of a hash of its id (15 chars).
std::string HostVethName(const std::string& endpoint_id);
std::string ContainerVethName(const std::string& endpoint_id);

class TelerouteDriver : public NetworkDriver {
 public:
  // Loads <state_dir>/teleroute.json (the folder is created if missing; a corrupt file is moved
  // aside to teleroute.json.corrupt) and restores the links of known networks; a link that
  // cannot be restored is logged, not fatal. `os` and `routes` must outlive the driver.
  TelerouteDriver(NetworkOs& os, RouteSource& routes, std::string state_dir);

  std::string Scope() const override { return "local"; }
  void CreateNetwork(const CreateNetworkRequest& request) override;
  void DeleteNetwork(const std::string& network_id) override;
  EndpointInterface CreateEndpoint(const CreateEndpointRequest& request) override;
  void DeleteEndpoint(const std::string& network_id, const std::string& endpoint_id) override;
  std::map<std::string, std::string> EndpointOperInfo(const std::string& network_id,
                                                      const std::string& endpoint_id) override;
  JoinReply Join(const JoinRequest& request) override;
  void Leave(const std::string& network_id, const std::string& endpoint_id) override;
  void ProgramExternalConnectivity(const std::string& network_id,
                                   const std::string& endpoint_id) override;
  void RevokeExternalConnectivity(const std::string& network_id,
                                  const std::string& endpoint_id) override;

  // Makes `subnets` the cluster subnets of the network: saved, used by later Joins, and added to
  // (or, for subnets no longer listed, removed from) the namespace of every joined container.
  // Throws for an unknown network. Returns one sentence per container that could not be updated
  // (its namespace gone, say); the others are updated regardless.
  std::vector<std::string> UpdateRoutes(const std::string& network_id,
                                        const std::vector<Ipv4Prefix>& subnets);
  // The network's current cluster subnets. Throws for an unknown network.
  std::vector<Ipv4Prefix> Subnets(const std::string& network_id) const;
  // Every network's daemon address and control port, to learn subnet changes from.
  std::vector<DaemonFeed> DaemonFeeds() const;

  const std::string& state_file() const { return state_file_; }

 private:
  struct Network {
    NetworkSettings settings;
    std::map<std::string, std::string> options;  // as given, to recognise a repeated create
    std::vector<Ipv4Prefix> subnets;             // current cluster subnets
  };
  struct Endpoint {
    std::string network_id;
    Ipv4Prefix address;
    std::string host_link;
    std::string container_link;
    std::string sandbox_key;  // "" unless joined
  };

  const Network& FindNetwork(const std::string& network_id) const;  // requires mu_; throws
  // Requires mu_; throws for an unknown endpoint or one of another network.
  Endpoint& FindEndpoint(const std::string& network_id, const std::string& endpoint_id);
  bool BridgeInUse(const std::string& bridge) const;  // requires mu_
  std::vector<StaticRoute> RoutesFor(const Network& network, const Endpoint& endpoint) const;
  void RestoreLinks();
  // Makes sure the network's bridge forwards (the rule may have been flushed); logs failures.
  void EnsureForwarding(const std::string& network_id);
  void RevokeForwardingQuietly(const std::string& bridge);
  void Load();
  void Save() const;  // requires mu_; throws std::runtime_error

  NetworkOs& os_;
  RouteSource& route_source_;
  const std::string state_dir_;
  const std::string state_file_;

  std::mutex changes_mu_;  // serializes link and route changes; taken before mu_
  mutable std::mutex mu_;
  std::map<std::string, Network> networks_;    // guarded by mu_
  std::map<std::string, Endpoint> endpoints_;  // guarded by mu_; key: endpoint id
};

}  // namespace tp::teleroute
