// FallbackRoutes gives every captured IPv6 network a last-resort route in the main table of the
// network namespace of the thread that opens it:
//
//   ip -6 route add NETWORK dev lo metric 4294967295 proto 116
//
// A connection this namespace opens itself must find some route before the output hook can mark
// it for capture (daemon/capture_table.h). A daemon container has no IPv6 default route, so
// without this its own connections to the cluster's IPv6 addresses (telepresence curl) fail with
// ENETUNREACH at once. Any route the host has to such a network, with any lower metric, still
// wins. Protocol 116 marks the routes as ours: Open() removes those an earlier run left, and
// the destructor removes them all, from any thread (the netlink socket stays in the namespace it
// was opened in). Not thread-safe: TrafficCapture calls it under its own lock.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/ipv6.h"
#include "common/netlink.h"

namespace tp::daemon {

// The route protocol number of our fallback routes (`proto 116` in `ip -6 route`).
inline constexpr uint8_t kFallbackRouteProtocol = 116;

class FallbackRoutes {
 public:
  // nullptr with `error` set when netlink or the loopback interface cannot be had.
  static std::unique_ptr<FallbackRoutes> Open(std::string& error);
  ~FallbackRoutes();
  FallbackRoutes(const FallbackRoutes&) = delete;
  FallbackRoutes& operator=(const FallbackRoutes&) = delete;

  // Makes `networks` the ones with a fallback route: adds the new ones, removes those no longer
  // listed. false with `error` set when the kernel refuses a change (the others are made).
  bool Replace(std::vector<Ipv6Prefix> networks, std::string& error);

 private:
  FallbackRoutes(NlSocketPtr socket, int loopback_index)
      : socket_(std::move(socket)), loopback_index_(loopback_index) {}
  // Removes every route of ours in the main table (leftovers included).
  void RemoveAll();

  const NlSocketPtr socket_;
  const int loopback_index_;
  std::vector<Ipv6Prefix> routed_;  // sorted
};

}  // namespace tp::daemon
