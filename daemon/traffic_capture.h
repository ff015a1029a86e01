// TrafficCapture sends the TCP and UDP traffic of the current network namespace that goes to the
// cluster's subnets (locally generated, or routed through this namespace) to transparent sockets
// on one port (see TransparentProxy), using the kernel's own stack: an nftables TPROXY table
// (CaptureTable) plus policy routing for its mark (PolicyRouting). RAII: installed by Install(),
// removed by the destructor; leftovers of an earlier, crashed run are replaced on install.
// IPv6 networks get the same in `table ip6` and `ip -6 rule`, when the host has IPv6 (else they
// are left out with a log line). Thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "daemon/capture_table.h"
#include "daemon/fallback_routes.h"
#include "daemon/policy_routing.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct TrafficCaptureOptions {
  uint16_t port = 15001;
  uint32_t mark = 0x7470;
  uint32_t routing_table = 7470;
  uint32_t rule_priority = 7470;
  std::string table_name = "telepresence";
};

class TrafficCapture {
 public:
  // Captures traffic to `cidrs` (entries that cannot be captured are skipped with a log line,
  // see SelectCaptureSubnets). nullptr with `error` set when the routing or the table cannot be
  // installed; nothing is left behind then.
  static std::unique_ptr<TrafficCapture> Install(const TrafficCaptureOptions& options,
                                                 const std::vector<std::string>& cidrs,
                                                 std::string& error);
  ~TrafficCapture();
  TrafficCapture(const TrafficCapture&) = delete;
  TrafficCapture& operator=(const TrafficCapture&) = delete;

  // Captures exactly `cidrs` from now on (one atomic change of the set). On failure the previous
  // subnets stay captured and `error` says why.
  bool UpdateSubnets(const std::vector<std::string>& cidrs, std::string& error);
  // The captured networks, as CIDR texts, sorted (IPv4 first).
  std::vector<std::string> Subnets() const;
  uint16_t Port() const { return port_; }

 private:
  // The IPv6 half: its routing and table, or both null when IPv6 cannot be captured here; and
  // the networks' fallback routes (null when they cannot be had: only this namespace's own
  // connections miss them).
  struct Ipv6Half {
    std::unique_ptr<PolicyRouting> routing;
    std::unique_ptr<CaptureTable> table;
    std::unique_ptr<FallbackRoutes> fallback;
  };

  TrafficCapture(uint16_t port, std::unique_ptr<PolicyRouting> routing,
                 std::unique_ptr<CaptureTable> table, Ipv6Half ipv6, CaptureSubnets networks);
  static Ipv6Half InstallIpv6(const TrafficCaptureOptions& options,
                              const std::vector<Ipv6Prefix>& networks);

  const uint16_t port_;
  // Destroyed in reverse order: the table goes first, so no packet is marked without a route.
  const std::unique_ptr<PolicyRouting> routing_;
  const std::unique_ptr<CaptureTable> table_;
  const Ipv6Half ipv6_;  // the same order inside
  mutable Mutex mutex_;
  std::vector<Ipv4Prefix> networks_ GUARDED_BY(mutex_);
  std::vector<Ipv6Prefix> networks6_ GUARDED_BY(mutex_);  // empty when ipv6_ is not installed
};

}  // namespace tp::daemon
