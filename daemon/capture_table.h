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
//   }
//
// Locally generated packets get the mark on output, which (with PolicyRouting) reroutes them to
// lo, where prerouting hands them to the transparent sockets on PORT. TCP from a bridge's ports
// (Docker's containers, for a daemon on the host) is redirected instead: br_netfilter runs the IP
// hooks of bridged traffic before the IP stack's receive path, which drops the socket TPROXY
// assigned. UDP from a bridge is not captured (its socket is lost the same way). Install() replaces
// a table of that name left by an earlier run, in the same transaction; ReplaceSubnets() swaps the
// set's elements atomically; the destructor deletes the table, from any thread (the netlink socket
// opened by Install stays in the namespace it was opened in). The requests are built with
// nftables/ exactly as nft builds them from the text above.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "daemon/capture_subnets.h"
#include "nftables/socket.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct CaptureTableOptions {
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
  ~CaptureTable();
  CaptureTable(const CaptureTable&) = delete;
  CaptureTable& operator=(const CaptureTable&) = delete;

  // The set holds exactly `networks` afterwards, or (false, `error` set) nothing changed.
  // `networks` must not overlap (SelectCaptureSubnets gives such a list). Thread-safe.
  bool ReplaceSubnets(const std::vector<Ipv4Prefix>& networks, std::string& error);

 private:
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
