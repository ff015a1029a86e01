// NetworkOs is all the OS access of the Teleroute driver: links and addresses in the plugin's
// own (host) network namespace, and routes inside containers' namespaces. The driver logic only
// talks to this interface, so its tests can run without root; NetlinkNetworkOs (netlink_os.h)
// is the real one. Every method throws std::runtime_error with a sentence on failure.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/ipv4.h"
#include "common/ipv6.h"

namespace tp::teleroute {

struct RouteEntry {
  Ipv4Prefix destination;
  std::string gateway;  // "" for a connected route
  bool operator==(const RouteEntry&) const = default;
};

struct Route6Entry {
  Ipv6Prefix destination;
  std::string gateway;  // "" for a connected route
  bool operator==(const Route6Entry&) const = default;
};

class NetworkOs {
 public:
  virtual ~NetworkOs() = default;

  virtual bool LinkExists(const std::string& name) = 0;
  // Creates the bridge if missing, gives it `address` (e.g. 10.1.0.1/24) and `address6` (e.g.
  // fd74:656c::1/64, when given) if it lacks them, and sets it up. Idempotent.
  virtual void EnsureBridge(const std::string& name, const Ipv4Prefix& address,
                            const std::optional<Ipv6Prefix>& address6) = 0;
  // Creates a veth pair `host_name` <-> `container_name` unless `host_name` exists, attaches
  // `host_name` to `bridge` and sets it up; `container_name` stays down in this namespace.
  // Idempotent: an existing host side is (re)attached and set up.
  virtual void EnsureVethPair(const std::string& host_name, const std::string& container_name,
                              const std::string& bridge) = 0;
  // Deletes a link (a veth pair goes with either side). A missing link is not an error.
  virtual void DeleteLink(const std::string& name) = 0;
  // Lets frames between the ports of `bridge` through the host's forward filter (Docker sets
  // the FORWARD policy to DROP, and br_netfilter makes bridged frames pass it). Idempotent.
  virtual void AllowBridgeForwarding(const std::string& bridge) = 0;
  // Takes that back; nothing to take back is not an error.
  virtual void RevokeBridgeForwarding(const std::string& bridge) = 0;

  // Adds (or replaces) `destination via next_hop` in the main table of the network namespace at
  // `netns_path` (a file such as /var/run/docker/netns/<id>).
  virtual void AddRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                        Ipv4Address next_hop) = 0;
  // Removes that route; a missing route is not an error.
  virtual void RemoveRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                           Ipv4Address next_hop) = 0;
  // The IPv4 unicast routes of the main table there.
  virtual std::vector<RouteEntry> ListRoutes(const std::string& netns_path) = 0;
  // The same three for IPv6.
  virtual void AddRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                        const Ipv6Address& next_hop) = 0;
  virtual void RemoveRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                           const Ipv6Address& next_hop) = 0;
  virtual std::vector<Route6Entry> ListRoutes6(const std::string& netns_path) = 0;
};

}  // namespace tp::teleroute
