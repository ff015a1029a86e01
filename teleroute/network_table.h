// NetworkTable is the Teleroute driver's bookkeeping: its networks and their endpoints, kept in
// memory and persisted atomically to one JSON file after every change. It knows nothing of links
// or routes (TelerouteDriver applies those to the OS).
//
// A change either reaches the file or is undone in memory and throws (std::runtime_error from the
// write; the next successful write then brings the file in line with memory). Lookups throw
// std::runtime_error with a sentence for an unknown network or endpoint.
//
// Thread-safe. mutex_ guards the tables and is never held across the file write; write_mutex_
// is an operation lock that orders the writes (each writes a snapshot taken under it, so the
// file never goes back to an older state).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "sync/mutex.h"
#include "teleroute/network_settings.h"

namespace tp::teleroute {

struct NetworkRecord {
  NetworkSettings settings;
  std::map<std::string, std::string> options;  // as given, to recognise a repeated create
  ClusterSubnets subnets;                      // current cluster subnets, sorted
};

struct EndpointRecord {
  std::string network_id;
  Ipv4Prefix address;
  std::string host_link;
  std::string container_link;
  std::string sandbox_key;  // "" unless joined
};

// What ReplaceSubnets changed, for the driver to apply to the joined containers.
struct SubnetChange {
  ClusterSubnets added;
  ClusterSubnets removed;
  Ipv4Address daemon;                                          // the IPv4 routes' next hop
  std::optional<Ipv6Address> daemon6;                          // the IPv6 routes' next hop
  std::vector<std::pair<std::string, std::string>> sandboxes;  // endpoint id, sandbox key
};

class NetworkTable {
 public:
  // Loads `state_file` if it exists; one that cannot be read is moved aside to
  // `state_file`.corrupt and the table starts empty. The folder must exist.
  explicit NetworkTable(std::string state_file);
  NetworkTable(const NetworkTable&) = delete;
  NetworkTable& operator=(const NetworkTable&) = delete;

  const std::string& state_file() const { return state_file_; }

  NetworkRecord Network(const std::string& network_id) const EXCLUDES(mutex_);
  std::optional<NetworkRecord> FindNetwork(const std::string& network_id) const EXCLUDES(mutex_);
  // Throws also for an endpoint of another network.
  EndpointRecord Endpoint(const std::string& network_id, const std::string& endpoint_id) const
      EXCLUDES(mutex_);
  std::optional<EndpointRecord> FindEndpoint(const std::string& endpoint_id) const EXCLUDES(mutex_);
  bool BridgeInUse(const std::string& bridge) const EXCLUDES(mutex_);
  // The host-side veth of every endpoint of the network.
  std::vector<std::string> HostLinks(const std::string& network_id) const EXCLUDES(mutex_);
  std::vector<DaemonFeed> DaemonFeeds() const EXCLUDES(mutex_);
  // Everything, to restore the links after a restart.
  std::pair<std::map<std::string, NetworkRecord>, std::map<std::string, EndpointRecord>> Snapshot()
      const EXCLUDES(mutex_);

  void AddNetwork(const std::string& network_id, const NetworkRecord& network) EXCLUDES(mutex_);
  // Removes the network and its endpoints.
  void RemoveNetwork(const std::string& network_id) EXCLUDES(mutex_);
  void AddEndpoint(const std::string& endpoint_id, const EndpointRecord& endpoint) EXCLUDES(mutex_);
  void RemoveEndpoint(const std::string& endpoint_id) EXCLUDES(mutex_);
  // Joins ("" leaves) the endpoint to a container's namespace; returns the endpoint and its
  // network as they are after the change.
  std::pair<EndpointRecord, NetworkRecord> SetSandbox(const std::string& network_id,
                                                      const std::string& endpoint_id,
                                                      const std::string& sandbox_key)
      EXCLUDES(mutex_);
  // Makes `subnets` (sorted, unique) the network's cluster subnets and says what changed and
  // which joined containers (all but the daemon's) need it.
  SubnetChange ReplaceSubnets(const std::string& network_id, const ClusterSubnets& subnets)
      EXCLUDES(mutex_);

 private:
  const NetworkRecord& NetworkLocked(const std::string& network_id) const REQUIRES(mutex_);
  const EndpointRecord& EndpointLocked(const std::string& network_id,
                                       const std::string& endpoint_id) const REQUIRES(mutex_);
  std::string StateTextLocked() const REQUIRES(mutex_);
  void Load() EXCLUDES(mutex_);
  // Writes the current tables; throws std::runtime_error.
  void Persist() const EXCLUDES(mutex_, write_mutex_);

  const std::string state_file_;
  mutable Mutex write_mutex_ ACQUIRED_BEFORE(mutex_);  // operation lock: one file write at a time
  mutable Mutex mutex_;
  std::map<std::string, NetworkRecord> networks_ GUARDED_BY(mutex_);
  std::map<std::string, EndpointRecord> endpoints_ GUARDED_BY(mutex_);  // key: endpoint id
};

}  // namespace tp::teleroute
