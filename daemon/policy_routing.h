// PolicyRouting makes every packet that carries firewall mark M a local one, the routing half of
// transparent capture: `ip rule add fwmark M lookup T priority P` and
// `ip route add local 0.0.0.0/0 dev lo table T`, through netlink (libnl), in the network
// namespace of the thread that installs it. Install() first replaces a rule and route left by an
// earlier run (the same M, T, P); the destructor removes both, from any thread.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <string>

#include "common/netlink.h"

namespace tp::daemon {

struct PolicyRoutingOptions {
  uint32_t mark = 0x7470;
  uint32_t table = 7470;
  uint32_t rule_priority = 7470;  // before the main table's rule (32766)
  int family = AF_INET;           // AF_INET6: `ip -6 rule` and `local ::/0 dev lo table T`
};

class PolicyRouting {
 public:
  // nullptr with `error` set when the rule or the route cannot be added (nothing is left
  // behind then).
  static std::unique_ptr<PolicyRouting> Install(const PolicyRoutingOptions& options,
                                                std::string& error);
  ~PolicyRouting();
  PolicyRouting(const PolicyRouting&) = delete;
  PolicyRouting& operator=(const PolicyRouting&) = delete;

 private:
  PolicyRouting(const PolicyRoutingOptions& options, NlSocketPtr socket)
      : options_(options), socket_(std::move(socket)) {}

  const PolicyRoutingOptions options_;
  const NlSocketPtr socket_;  // keeps the namespace the rule and route were added in
  bool rule_added_ = false;
};

}  // namespace tp::daemon
