#include "teleroute/bridge_forwarding.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <net/if.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <memory>
#include <stdexcept>

#include "nftables/batch.h"
#include "nftables/socket.h"

namespace tp::teleroute {
namespace {

std::string Tag(const std::string& bridge) { return "teleroute " + bridge; }

// A socket in the calling thread's network namespace; throws when there is none.
std::unique_ptr<nft::Socket> OpenSocket() {
  int error = 0;
  std::unique_ptr<nft::Socket> socket = nft::Socket::Open(error);
  if (!socket) {
    throw std::runtime_error("cannot open a netfilter netlink socket: " + nft::ErrorText(error));
  }
  return socket;
}

// `iifname|oifname "NAME"`: the name zero-padded to IFNAMSIZ, as nft encodes it.
void MatchInterface(nft::Rule& rule, uint32_t meta_key, const std::string& name) {
  rule.LoadMeta(meta_key, NFT_REG_1).Compare(NFT_REG_1, NFT_CMP_EQ, nft::InterfaceName(name));
}

// iifname "BRIDGE" oifname "BRIDGE" counter accept comment "teleroute BRIDGE"
nft::Rule BridgeRule(const std::string& table, const std::string& chain,
                     const std::string& bridge) {
  if (bridge.empty() || bridge.size() >= IFNAMSIZ) {
    throw std::runtime_error("not an interface name: '" + bridge + "'");
  }
  nft::Rule rule(NFPROTO_IPV4, table, chain);
  MatchInterface(rule, NFT_META_IIFNAME, bridge);
  MatchInterface(rule, NFT_META_OIFNAME, bridge);
  rule.Counter().Verdict(NF_ACCEPT).Comment(Tag(bridge));
  return rule;
}

// The chain's rules; throws when the kernel cannot list them.
std::vector<ListedRule> ListRules(nft::Socket& socket, const std::string& table,
                                  const std::string& chain) {
  std::vector<ListedRule> rules;
  if (const int error = socket.ListRules(NFPROTO_IPV4, table, chain, rules)) {
    throw std::runtime_error("cannot list chain " + chain + " of table ip " + table + ": " +
                             nft::ErrorText(error));
  }
  return rules;
}

std::string MissingChainReason(const std::string& table, const std::string& chain) {
  return "chain " + chain + " of table ip " + table +
         " does not exist: Docker's iptables integration seems off (iptables=false, or "
         "iptables-legacy instead of iptables-nft)";
}

// Whether the chain exists; throws when the kernel cannot tell.
bool ChainExists(nft::Socket& socket, const std::string& table, const std::string& chain) {
  const int error = socket.LookUpChain(NFPROTO_IPV4, table, chain);
  if (error == ENOENT) return false;
  if (error != 0) {
    throw std::runtime_error("cannot look up chain " + chain + " of table ip " + table + ": " +
                             nft::ErrorText(error));
  }
  return true;
}

}  // namespace

std::vector<uint64_t> TaggedRuleHandles(const std::vector<ListedRule>& rules,
                                        const std::string& bridge) {
  const std::string tag = Tag(bridge);
  std::vector<uint64_t> handles;
  for (const ListedRule& rule : rules) {
    if (rule.comment == tag) handles.push_back(rule.handle);
  }
  return handles;
}

bool BridgeForwarding::Allowed(const std::string& bridge) {
  const std::unique_ptr<nft::Socket> socket = OpenSocket();
  if (!ChainExists(*socket, table_, chain_)) return false;
  return !TaggedRuleHandles(ListRules(*socket, table_, chain_), bridge).empty();
}

void BridgeForwarding::Allow(const std::string& bridge) {
  const std::unique_ptr<nft::Socket> socket = OpenSocket();
  if (!ChainExists(*socket, table_, chain_)) {
    spdlog::warn("{}; bridge {} gets no forwarding rule", MissingChainReason(table_, chain_),
                 bridge);
    return;
  }
  if (!TaggedRuleHandles(ListRules(*socket, table_, chain_), bridge).empty()) return;
  nft::Batch batch;
  batch.InsertRule(BridgeRule(table_, chain_, bridge));
  if (const int error = socket->Commit(batch)) {
    const std::string reason =
        error == ENOENT ? MissingChainReason(table_, chain_) : nft::ErrorText(error);
    throw std::runtime_error("cannot let bridge " + bridge + "'s traffic through chain " + chain_ +
                             ": " + reason);
  }
  spdlog::info("forwarding between the ports of {} allowed in chain {}", bridge, chain_);
}

void BridgeForwarding::Revoke(const std::string& bridge) {
  const std::unique_ptr<nft::Socket> socket = OpenSocket();
  if (!ChainExists(*socket, table_, chain_)) return;
  const std::vector<uint64_t> handles =
      TaggedRuleHandles(ListRules(*socket, table_, chain_), bridge);
  if (handles.empty()) return;
  nft::Batch batch;
  for (uint64_t handle : handles) batch.DeleteRule(NFPROTO_IPV4, table_, chain_, handle);
  const int error = socket->Commit(batch);
  // ENOENT: the rule (or its chain) went away meanwhile, which is what Revoke wants.
  if (error != 0 && error != ENOENT) {
    throw std::runtime_error("cannot remove bridge " + bridge + "'s rule from chain " + chain_ +
                             ": " + nft::ErrorText(error));
  }
}

}  // namespace tp::teleroute
