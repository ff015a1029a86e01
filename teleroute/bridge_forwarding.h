// BridgeForwarding keeps the host's forward filter from dropping frames between the ports of a
// Teleroute bridge. With br_netfilter loaded (Docker loads it), bridged IPv4 frames pass the
// iptables FORWARD chain, whose policy Docker sets to DROP; Docker accepts its own bridges'
// traffic there, not ours. So each bridge gets one rule at the top of Docker's DOCKER-USER chain
// (table `ip filter`, which iptables-nft keeps in nftables):
//   iifname "BRIDGE" oifname "BRIDGE" counter accept comment "teleroute BRIDGE"
// It talks nftables' netlink protocol through nftables/ (libnftnl + libmnl): it lists only that
// chain's rules and never loads the host's whole ruleset. The comment is stored as rule userdata
// the way nft stores it, so `nft list chain ip filter DOCKER-USER` shows the rule as nft would. The
// rules act on the network namespace of the calling thread (the plugin's host namespace). A host
// without that chain (Docker running with iptables=false, or iptables-legacy) gets no rule and no
// error (a warning is logged): the bridge is then as open as the host's filter makes it.
// Thread-safe (each call opens its own netlink socket).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "nftables/socket.h"

namespace tp::teleroute {

class BridgeForwarding {
 public:
  explicit BridgeForwarding(std::string table = "filter", std::string chain = "DOCKER-USER")
      : table_(std::move(table)), chain_(std::move(chain)) {}

  // Adds the bridge's rule unless it is there. Throws std::runtime_error with the kernel's
  // reason when the chain exists but the rule cannot be added.
  void Allow(const std::string& bridge);
  // Removes every rule of the bridge; missing is not an error. Throws like Allow.
  void Revoke(const std::string& bridge);
  // Whether the bridge's rule is there.
  bool Allowed(const std::string& bridge);

 private:
  const std::string table_;
  const std::string chain_;
};

// One rule of a chain as the kernel lists it: its handle and its comment ("" when none).
using ListedRule = nft::ListedRule;

// The handles of the rules commented exactly "teleroute BRIDGE". Pure: exposed for tests.
std::vector<uint64_t> TaggedRuleHandles(const std::vector<ListedRule>& rules,
                                        const std::string& bridge);

}  // namespace tp::teleroute
