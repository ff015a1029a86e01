// TelerouteDriver is the Teleroute network driver's logic: it applies dockerd's network and
// endpoint calls to the OS and keeps its NetworkTable (network_table.h) in step. A network is a
// Linux bridge in the plugin's namespace holding the gateway address; each endpoint is a veth
// pair whose host side is on the bridge. Containers that join get static routes for the cluster
// subnets via the daemon container's address on the network (the daemon's own endpoint gets
// none; a network created with --ipv6 also routes the cluster's IPv6 subnets via the daemon's
// IPv6 address, option daemon6), and no gateway, so dockerd keeps docker_gwbridge for the default
// route and published ports. UpdateRoutes pushes a new subnet list into every joined container's
// namespace (the DaemonRouteWatcher calls it when a daemon's subnets change). Each bridge's frames
// are let through the host's forward filter (NetworkOs::AllowBridgeForwarding) while its network
// exists.
//
// Networks, endpoints and sandbox keys are persisted in <state_dir>/teleroute.json after each
// change; the constructor loads them and re-creates missing bridges and veths.
//
// Thread-safe. The state lives in the NetworkTable, whose lock is never held across a NetworkOs
// call, a RouteSource call or the file write. changes_mutex_ is an operation lock, not a state
// lock: it is held across NetworkOs calls on purpose, so that the calls that change links or
// routes (create/delete of networks and endpoints, UpdateRoutes) do not interleave and the
// kernel and the table change in step. Lookups (Join's, Subnets, DaemonFeeds) do not take it.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "sync/mutex.h"
#include "teleroute/network_driver.h"
#include "teleroute/network_os.h"
#include "teleroute/network_settings.h"
#include "teleroute/network_table.h"
#include "teleroute/route_source.h"

namespace tp::teleroute {

class TelerouteDriver : public NetworkDriver {
 public:
  // Loads <state_dir>/teleroute.json (the folder is created if missing; a corrupt file is moved
  // aside to teleroute.json.corrupt) and restores the links of known networks; a link that
  // cannot be restored is logged, not fatal. `os` and `routes` must outlive the driver.
  TelerouteDriver(NetworkOs& os, RouteSource& routes, std::string state_dir);

  std::string Scope() const override { return "local"; }
  void CreateNetwork(const CreateNetworkRequest& request) EXCLUDES(changes_mutex_) override;
  void DeleteNetwork(const std::string& network_id) EXCLUDES(changes_mutex_) override;
  EndpointInterface CreateEndpoint(const CreateEndpointRequest& request)
      EXCLUDES(changes_mutex_) override;
  void DeleteEndpoint(const std::string& network_id, const std::string& endpoint_id)
      EXCLUDES(changes_mutex_) override;
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
  // A network created without --ipv6 keeps its IPv6 subnets but routes none of them.
  std::vector<std::string> UpdateRoutes(const std::string& network_id,
                                        const ClusterSubnets& subnets) EXCLUDES(changes_mutex_);
  // The network's current cluster subnets. Throws for an unknown network.
  ClusterSubnets Subnets(const std::string& network_id) const;
  // Every network's daemon address and control port, to learn subnet changes from.
  std::vector<DaemonFeed> DaemonFeeds() const;

  const std::string& state_file() const { return table_.state_file(); }

 private:
  void RestoreLinks();
  // Removes the change's old routes from the namespace at `sandbox` and adds its new ones.
  void ApplyChange(const std::string& sandbox, const SubnetChange& change) REQUIRES(changes_mutex_);
  // Makes sure the network's bridge forwards (the rule may have been flushed); logs failures.
  void EnsureForwarding(const std::string& network_id);
  void RevokeForwardingQuietly(const std::string& bridge);

  NetworkOs& os_;
  RouteSource& route_source_;
  const std::string state_dir_;
  NetworkTable table_;

  // Operation lock (see above): serializes the calls that change links or routes.
  Mutex changes_mutex_;
};

}  // namespace tp::teleroute
