// CaptureTable is the nftables half of transparent capture, in the network namespace of the
// thread that installs it:
//
//   table ip NAME {
//     set cluster_subnets { type ipv4_addr; flags interval; elements = { ... } }
//     chain prerouting { type filter hook prerouting priority mangle; policy accept;
//       from a bridge (meta iifkind "bridge") to @cluster_subnets: accept (see from_bridges)
//       TCP and UDP to @cluster_subnets: tproxy to :PORT, meta mark set MARK, accept }
//     chain from_bridges { type nat hook prerouting priority dstnat - 10; policy accept;
//       TCP from a bridge to @cluster_subnets that this bridge does not carry itself
//       (fib daddr . iif oif missing): redirect to :PORT }
//     chain output { type route hook output priority mangle; policy accept;
//       TCP and UDP to @cluster_subnets: meta mark set MARK }
//     chain guard { type filter hook input priority filter; policy accept;
//       TCP and UDP to port PORT: accept with the mark (TPROXY's), TCP also when redirected
//       (ct status dnat); else drop }
//   }
//
// Locally generated packets get the mark on output, which (with PolicyRouting) reroutes them to
// lo, where prerouting hands them to the transparent sockets on PORT. TCP from a bridge's ports
// (Docker's containers, for a daemon on the host) is redirected instead: br_netfilter runs the IP
// hooks of bridged traffic before the IP stack's receive path, which drops the socket TPROXY
// assigned. UDP from a bridge is not captured (its socket is lost the same way). The guard drops
// what reaches PORT any other way: a neighbour's direct connection to the transparent proxy,
// which must not be relayed (the proxy refuses it too). Install() replaces
// a table of that name left by an earlier run, in the same transaction; ReplaceSubnets() swaps the
// set's elements atomically; the destructor deletes the table, from any thread (the netlink socket
// opened by Install stays in the namespace it was opened in). The requests are built with
// nftables/ exactly as nft builds them from the text above. With options.family NFPROTO_IPV6 the
// table is `table ip6 NAME`: the same set (type ipv6_addr) and chains with `ip6 daddr`, and no
// from_bridges chain.
#pragma once

// (netinet/in.h before linux/netfilter.h, which would otherwise define in_addr itself.)
#include <netinet/in.h>
// NFPROTO_IPV4, NFPROTO_IPV6
#include <linux/netfilter.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/ipv6.h"
#include "daemon/capture_subnets.h"
#include "nftables/objects.h"
#include "nftables/socket.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct CaptureTableOptions {
  // NFPROTO_IPV4 (table ip NAME) or NFPROTO_IPV6 (table ip6 NAME: the same chains and rules for
  // IPv6 addresses, without the from_bridges chain: IPv6 from a bridge is not captured).
  uint16_t family = NFPROTO_IPV4;
  std::string table_name = "telepresence";  // [a-z0-9_], at most 32 characters
  uint16_t port = 15001;                    // where the transparent sockets listen
  uint32_t mark = 0x7470;
};

class CaptureTable {
 public:
  // nullptr with `error` set when the options are invalid or nftables refuses the table.
  static std::unique_ptr<CaptureTable> Install(const CaptureTableOptions& options,
                                               const std::vector<Ipv4Prefix>& networks,
                                               std::string& error);
  static std::unique_ptr<CaptureTable> Install(const CaptureTableOptions& options,
                                               const std::vector<Ipv6Prefix>& networks,
                                               std::string& error);
  ~CaptureTable();
  CaptureTable(const CaptureTable&) = delete;
  CaptureTable& operator=(const CaptureTable&) = delete;

  // The set holds exactly `networks` afterwards, or (false, `error` set) nothing changed.
  // `networks` must not overlap (SelectCaptureSubnets gives such a list). Thread-safe.
  bool ReplaceSubnets(const std::vector<Ipv4Prefix>& networks, std::string& error);
  bool ReplaceSubnets(const std::vector<Ipv6Prefix>& networks, std::string& error);

 private:
  static std::unique_ptr<CaptureTable> InstallElements(const CaptureTableOptions& options,
                                                       std::vector<nft::Element> elements,
                                                       std::string& error);
  bool ReplaceElements(std::vector<nft::Element> elements, std::string& error);

  CaptureTable(const CaptureTableOptions& options, std::unique_ptr<nft::Socket> socket)
      : options_(options), socket_(std::move(socket)) {}

  const CaptureTableOptions options_;
  // An operation lock: one transaction at a time on the one socket, held across its Commit (a
  // netlink exchange with this host's kernel, never the network).
  Mutex commit_mutex_;
  const std::unique_ptr<nft::Socket> socket_ PT_GUARDED_BY(commit_mutex_);
};

// The name of the set in the table, for readers of `list table`.
inline constexpr char kCaptureSetName[] = "cluster_subnets";

}  // namespace tp::daemon
