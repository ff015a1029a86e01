// BridgeForwarding keeps the host's forward filter from dropping frames between the ports of a
// Teleroute bridge. With br_netfilter loaded (Docker loads it), bridged IPv4 frames pass the
// iptables FORWARD chain, whose policy Docker sets to DROP; Docker accepts its own bridges'
// traffic there, not ours. So each bridge gets one rule at the top of Docker's DOCKER-USER chain
// (table `ip filter`, which iptables-nft keeps in nftables):
//   iifname "BRIDGE" oifname "BRIDGE" accept comment "teleroute BRIDGE"
// The rules act on the network namespace of the calling thread (the plugin's host namespace).
// A host without that chain (Docker running with iptables=false, or iptables-legacy) gets no
// rule and no error: the bridge is then as open as the host's filter makes it.
// Thread-safe (each call opens its own libnftables context).
#pragma once

#include <string>
#include <vector>

namespace tp::teleroute {

class BridgeForwarding {
 public:
  explicit BridgeForwarding(std::string table = "filter", std::string chain = "DOCKER-USER")
      : table_(std::move(table)), chain_(std::move(chain)) {}

  // Adds the bridge's rule unless it is there. Throws std::runtime_error with nftables' message
  // when the chain exists but the rule cannot be added.
  void Allow(const std::string& bridge);
  // Removes every rule of the bridge; missing is not an error. Throws like Allow.
  void Revoke(const std::string& bridge);
  // Whether the bridge's rule is there.
  bool Allowed(const std::string& bridge);

 private:
  const std::string table_;
  const std::string chain_;
};

// The handles of the rules tagged `comment "teleroute BRIDGE"` in an nft listing made with
// handles. Pure: exposed for tests.
std::vector<unsigned long> TaggedRuleHandles(const std::string& listing, const std::string& bridge);

}  // namespace tp::teleroute
