#include "daemon/capture_table.h"

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter_ipv4.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstddef>

#include "nftables/batch.h"

namespace tp::daemon {
namespace {

constexpr size_t kMaxTableNameLength = 32;
constexpr uint8_t kTcp = 6;
constexpr uint8_t kUdp = 17;
// Ids of the sets within the install transaction, which the rules refer to.
constexpr uint32_t kSubnetSetId = 1;
constexpr uint32_t kProtocolSetId = 2;

bool ValidTableName(const std::string& name) {
  return !name.empty() && name.size() <= kMaxTableNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

bool IsIpv6(const CaptureTableOptions& options) { return options.family == NFPROTO_IPV6; }

nft::Table Table(const CaptureTableOptions& options) {
  return {options.family, options.table_name};
}

std::vector<nft::Element> Elements(const std::vector<Ipv4Prefix>& networks) {
  std::vector<nft::Ipv4Range> ranges;
  for (const Ipv4Prefix& network : networks) {
    const uint32_t first = network.Network().address.value;
    ranges.push_back({first, first | ~network.Mask()});
  }
  return nft::Ipv4IntervalElements(ranges);
}

std::vector<nft::Element> Elements(const std::vector<Ipv6Prefix>& networks) {
  std::vector<nft::Ipv6Range> ranges;
  for (const Ipv6Prefix& network : networks) ranges.push_back({network.address, network.Last()});
  return nft::Ipv6IntervalElements(ranges);
}

// set cluster_subnets { type ipv4_addr (ipv6_addr); flags interval; elements = { NETWORKS } }
nft::Set SubnetSet(const CaptureTableOptions& options, std::vector<nft::Element> elements) {
  nft::Set set;
  set.family = options.family;
  set.table = options.table_name;
  set.name = kCaptureSetName;
  set.id = kSubnetSetId;
  set.flags = NFT_SET_INTERVAL;
  set.key_type = IsIpv6(options) ? nft::kTypeIpv6Address : nft::kTypeIpv4Address;
  set.key_length = IsIpv6(options) ? sizeof(in6_addr) : sizeof(uint32_t);
  set.elements = std::move(elements);
  return set;
}

// type TYPE hook HOOK priority mangle; policy accept;
nft::BaseChain Chain(const CaptureTableOptions& options, const char* name, const char* type,
                     uint32_t hook) {
  return {options.family, options.table_name, name, type, hook, NF_IP_PRI_MANGLE, NF_ACCEPT};
}

// ip daddr @cluster_subnets (ip6 daddr @cluster_subnets)
nft::Rule ToSubnets(const CaptureTableOptions& options, const char* chain, const nft::Set& set) {
  nft::Rule rule(options.family, options.table_name, chain);
  if (IsIpv6(options)) {
    rule.LoadPayload(NFT_PAYLOAD_NETWORK_HEADER, offsetof(ip6_hdr, ip6_dst), sizeof(in6_addr),
                     NFT_REG_1);
  } else {
    rule.LoadPayload(NFT_PAYLOAD_NETWORK_HEADER, offsetof(iphdr, daddr), 4, NFT_REG_1);
  }
  rule.Lookup(NFT_REG_1, set);
  return rule;
}

// "bridge" as `meta iifkind` holds it: like an interface name, 16 bytes, zero-padded.
nft::Bytes BridgeKind() { return nft::InterfaceName("bridge"); }

// ip daddr @cluster_subnets meta iifkind "bridge" accept
// Traffic from a bridge's ports skips TPROXY: with br_netfilter (which Docker loads), a bridge's
// IP hooks run before the IP stack's own receive path, which drops the socket TPROXY assigned, so
// such a SYN would find no listener (TCP goes to RedirectRule instead). (A match, not `!=` on the
// TPROXY rules: `meta iifkind` fails on an interface without a kind, such as lo.)
nft::Rule BridgeSkipRule(const CaptureTableOptions& options, const nft::Set& set) {
  nft::Rule rule = ToSubnets(options, "prerouting", set);
  rule.LoadMeta(NFT_META_IIFKIND, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, BridgeKind())
      .Verdict(NF_ACCEPT);
  return rule;
}

// ip daddr @cluster_subnets meta l4proto PROTOCOL tproxy to :PORT meta mark set MARK accept
nft::Rule TproxyRule(const CaptureTableOptions& options, const nft::Set& set, uint8_t protocol) {
  nft::Rule rule = ToSubnets(options, "prerouting", set);
  const nft::Bytes protocol_bytes{protocol};
  rule.LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, protocol_bytes)
      .LoadImmediate(NFT_REG_1, nft::BigEndian16(options.port))
      .Tproxy(options.family, NFT_REG_1)
      .LoadImmediate(NFT_REG_1, nft::HostOrder32(options.mark))
      .SetMeta(NFT_META_MARK, NFT_REG_1)
      .Verdict(NF_ACCEPT);
  return rule;
}

// ip daddr @cluster_subnets meta iifkind "bridge" fib daddr . iif oif missing
//   meta l4proto tcp redirect to :PORT
// A daemon on a host captures Docker's containers this way (their bridge): the proxy finds the
// original destination in conntrack (SO_ORIGINAL_DST). Frames that the bridge itself carries
// to the destination (it is on the same bridge: a cluster in Docker on this host, as the demo's)
// are left alone.
nft::Rule RedirectRule(const CaptureTableOptions& options, const nft::Set& set) {
  nft::Rule rule = ToSubnets(options, "from_bridges", set);
  const nft::Bytes tcp{kTcp};
  const nft::Bytes missing(sizeof(uint32_t), 0);
  rule.LoadMeta(NFT_META_IIFKIND, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, BridgeKind())
      .Fib(NFTA_FIB_F_DADDR | NFTA_FIB_F_IIF | NFTA_FIB_F_PRESENT, NFT_FIB_RESULT_OIF, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, missing)
      .LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, tcp)
      .LoadImmediate(NFT_REG_1, nft::BigEndian16(options.port))
      .Redirect(NFT_REG_1);
  return rule;
}

// ip daddr @cluster_subnets meta l4proto { 6, 17 } meta mark set MARK
nft::Rule MarkRule(const CaptureTableOptions& options, const nft::Set& set,
                   const nft::Set& protocols) {
  nft::Rule rule = ToSubnets(options, "output", set);
  rule.LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Lookup(NFT_REG_1, protocols)
      .LoadImmediate(NFT_REG_1, nft::HostOrder32(options.mark))
      .SetMeta(NFT_META_MARK, NFT_REG_1);
  return rule;
}

// meta l4proto PROTOCOL PROTOCOL dport PORT (tcp dport PORT, udp dport PORT), in the guard chain
nft::Rule ToCapturePort(const CaptureTableOptions& options, uint8_t protocol) {
  nft::Rule rule(options.family, options.table_name, "guard");
  const nft::Bytes protocol_bytes{protocol};
  rule.LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, protocol_bytes)
      .LoadPayload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, NFT_REG_1)  // the destination port
      .Compare(NFT_REG_1, NFT_CMP_EQ, nft::BigEndian16(options.port));
  return rule;
}

// tcp dport PORT meta mark MARK accept: what TPROXY delivered (it carries the capture's mark)
nft::Rule GuardMarkedRule(const CaptureTableOptions& options, uint8_t protocol) {
  nft::Rule rule = ToCapturePort(options, protocol);
  rule.LoadMeta(NFT_META_MARK, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, nft::HostOrder32(options.mark))
      .Verdict(NF_ACCEPT);
  return rule;
}

// tcp dport PORT ct status dnat accept: what from_bridges redirected
nft::Rule GuardRedirectedRule(const CaptureTableOptions& options) {
  nft::Rule rule = ToCapturePort(options, kTcp);
  const nft::Bytes zero(sizeof(uint32_t), 0);
  rule.LoadCt(NFT_CT_STATUS, NFT_REG_1)
      .Bitwise(NFT_REG_1, nft::HostOrder32(IPS_DST_NAT), zero)
      .Compare(NFT_REG_1, NFT_CMP_NEQ, zero)
      .Verdict(NF_ACCEPT);
  return rule;
}

// tcp dport PORT counter drop: a direct connection to the capture port (a neighbour's), counted
nft::Rule GuardDropRule(const CaptureTableOptions& options, uint8_t protocol) {
  nft::Rule rule = ToCapturePort(options, protocol);
  rule.Counter().Verdict(NF_DROP);
  return rule;
}

// `add table` then `delete table` removes a leftover table without failing when there is none;
// the new table follows in the same transaction.
nft::Batch InstallBatch(const CaptureTableOptions& options, std::vector<nft::Element> elements) {
  nft::Batch batch;
  batch.AddTable(Table(options)).DeleteTable(Table(options)).AddTable(Table(options));
  const nft::Set subnets = SubnetSet(options, std::move(elements));
  batch.AddSet(subnets);
  batch.AddChain(Chain(options, "prerouting", "filter", NF_INET_PRE_ROUTING));
  batch.AppendRule(BridgeSkipRule(options, subnets));
  batch.AppendRule(TproxyRule(options, subnets, kTcp));
  batch.AppendRule(TproxyRule(options, subnets, kUdp));
  if (!IsIpv6(options)) {
    batch.AddChain({options.family, options.table_name, "from_bridges", "nat", NF_INET_PRE_ROUTING,
                    NF_IP_PRI_NAT_DST - 10, NF_ACCEPT});
    batch.AppendRule(RedirectRule(options, subnets));
  }
  batch.AddChain(Chain(options, "output", "route", NF_INET_LOCAL_OUT));
  const nft::Set protocols =
      nft::ProtocolSet(options.family, options.table_name, kProtocolSetId, {kTcp, kUdp});
  batch.AddSet(protocols);
  batch.AppendRule(MarkRule(options, subnets, protocols));
  batch.AddChain({options.family, options.table_name, "guard", "filter", NF_INET_LOCAL_IN,
                  NF_IP_PRI_FILTER, NF_ACCEPT});
  batch.AppendRule(GuardMarkedRule(options, kTcp));
  if (!IsIpv6(options)) batch.AppendRule(GuardRedirectedRule(options));
  batch.AppendRule(GuardDropRule(options, kTcp));
  batch.AppendRule(GuardMarkedRule(options, kUdp));
  batch.AppendRule(GuardDropRule(options, kUdp));
  return batch;
}

// `flush set` then `add element` (when there are elements): one transaction.
nft::Batch ReplaceElementsBatch(const CaptureTableOptions& options,
                                std::vector<nft::Element> elements) {
  const nft::Set set = SubnetSet(options, std::move(elements));
  nft::Batch batch;
  batch.FlushSet(set);
  if (!set.elements.empty()) batch.AddElements(set, set.elements);
  return batch;
}

}  // namespace

std::unique_ptr<CaptureTable> CaptureTable::Install(const CaptureTableOptions& options,
                                                    const std::vector<Ipv4Prefix>& networks,
                                                    std::string& error) {
  if (IsIpv6(options)) {
    error = "an IPv6 capture table takes IPv6 networks";
    return nullptr;
  }
  return InstallElements(options, Elements(networks), error);
}

std::unique_ptr<CaptureTable> CaptureTable::Install(const CaptureTableOptions& options,
                                                    const std::vector<Ipv6Prefix>& networks,
                                                    std::string& error) {
  if (!IsIpv6(options)) {
    error = "an IPv4 capture table takes IPv4 networks";
    return nullptr;
  }
  return InstallElements(options, Elements(networks), error);
}

std::unique_ptr<CaptureTable> CaptureTable::InstallElements(const CaptureTableOptions& options,
                                                            std::vector<nft::Element> elements,
                                                            std::string& error) {
  if (!ValidTableName(options.table_name) || options.port == 0) {
    error = "invalid capture table options (name \"" + options.table_name + "\", port " +
            std::to_string(options.port) + ")";
    return nullptr;
  }
  int failure = 0;
  std::unique_ptr<nft::Socket> socket = nft::Socket::Open(failure);
  if (!socket) {
    error = "cannot open a netfilter netlink socket: " + nft::ErrorText(failure);
    return nullptr;
  }
  nft::Batch batch = InstallBatch(options, std::move(elements));
  if (const int refused = socket->Commit(batch)) {
    error = "nftables refused the capture table: " + nft::ErrorText(refused);
    return nullptr;
  }
  return std::unique_ptr<CaptureTable>(new CaptureTable(options, std::move(socket)));
}

CaptureTable::~CaptureTable() {
  MutexLock lock(commit_mutex_);
  nft::Batch batch;
  batch.DeleteTable(Table(options_));
  if (const int error = socket_->Commit(batch)) {
    spdlog::warn("capture: cannot delete table {} {}: {}", IsIpv6(options_) ? "ip6" : "ip",
                 options_.table_name, nft::ErrorText(error));
  }
}

bool CaptureTable::ReplaceSubnets(const std::vector<Ipv4Prefix>& networks, std::string& error) {
  return ReplaceElements(Elements(networks), error);
}

bool CaptureTable::ReplaceSubnets(const std::vector<Ipv6Prefix>& networks, std::string& error) {
  return ReplaceElements(Elements(networks), error);
}

bool CaptureTable::ReplaceElements(std::vector<nft::Element> elements, std::string& error) {
  MutexLock lock(commit_mutex_);
  nft::Batch batch = ReplaceElementsBatch(options_, std::move(elements));
  if (const int refused = socket_->Commit(batch)) {
    error = "nftables refused the new subnets: " + nft::ErrorText(refused);
    return false;
  }
  return true;
}

}  // namespace tp::daemon
