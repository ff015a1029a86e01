// NetlinkNetworkOs implements NetworkOs with libnl-route-3, and the forwarding rules with
// nftables/ (BridgeForwarding). Links, addresses and rules are changed in
// the calling thread's network namespace (the plugin's host namespace). Routes in a
// container's namespace go through a netlink socket opened inside that namespace by a short-lived
// thread that setns()es into it (needs CAP_SYS_ADMIN); the calling thread never changes
// namespace. Thread-safe: every call uses its own netlink socket.
#pragma once

#include "teleroute/bridge_forwarding.h"
#include "teleroute/network_os.h"

namespace tp::teleroute {

class NetlinkNetworkOs : public NetworkOs {
 public:
  bool LinkExists(const std::string& name) override;
  void EnsureBridge(const std::string& name, const Ipv4Prefix& address,
                    const std::optional<Ipv6Prefix>& address6) override;
  void EnsureVethPair(const std::string& host_name, const std::string& container_name,
                      const std::string& bridge) override;
  void DeleteLink(const std::string& name) override;
  void AllowBridgeForwarding(const std::string& bridge) override { forwarding_.Allow(bridge); }
  void RevokeBridgeForwarding(const std::string& bridge) override { forwarding_.Revoke(bridge); }
  void AddRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                Ipv4Address next_hop) override;
  void RemoveRoute(const std::string& netns_path, const Ipv4Prefix& destination,
                   Ipv4Address next_hop) override;
  std::vector<RouteEntry> ListRoutes(const std::string& netns_path) override;
  void AddRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                const Ipv6Address& next_hop) override;
  void RemoveRoute(const std::string& netns_path, const Ipv6Prefix& destination,
                   const Ipv6Address& next_hop) override;
  std::vector<Route6Entry> ListRoutes6(const std::string& netns_path) override;

 private:
  BridgeForwarding forwarding_;
};

}  // namespace tp::teleroute
