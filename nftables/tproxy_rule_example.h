// For the nftables tests only: a rule of the shape the daemon's capture installs,
//   ip daddr @SET meta l4proto PROTOCOL tproxy to :15001 meta mark set 0x7470 accept
// in TABLE's prerouting chain, built with the library's Rule builder.
#pragma once

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>

#include <cstdint>
#include <string>

#include "nftables/batch.h"

namespace tp::nft {

inline Rule ExampleTproxyRule(const std::string& table, const Set& set, uint8_t protocol) {
  Rule rule(NFPROTO_IPV4, table, "prerouting");
  const Bytes protocol_bytes{protocol};
  rule.LoadPayload(NFT_PAYLOAD_NETWORK_HEADER, 16, 4, NFT_REG_1)
      .Lookup(NFT_REG_1, set)
      .LoadMeta(NFT_META_L4PROTO, NFT_REG_1)
      .Compare(NFT_REG_1, NFT_CMP_EQ, protocol_bytes)
      .LoadImmediate(NFT_REG_1, BigEndian16(15001))
      .Tproxy(NFPROTO_IPV4, NFT_REG_1)
      .LoadImmediate(NFT_REG_1, HostOrder32(0x7470))
      .SetMeta(NFT_META_MARK, NFT_REG_1)
      .Verdict(NF_ACCEPT);
  return rule;
}

}  // namespace tp::nft
