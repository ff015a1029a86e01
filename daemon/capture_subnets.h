// Which cluster subnets the daemon captures: a pure choice over CIDR texts, so that the capture
// code builds nftables commands only from parsed numbers, never from the text it was given.
#pragma once

#include <string>
#include <vector>

#include "common/ipv4.h"
#include "common/ipv6.h"

namespace tp::daemon {

// The subnets worth capturing out of a list of CIDR texts, and what was left out and why.
struct CaptureSubnets {
  std::vector<Ipv4Prefix> networks;   // sorted, none inside another, no host bits
  std::vector<Ipv6Prefix> networks6;  // the same for IPv6
  std::vector<std::string> skipped;   // "TEXT: reason", one per entry left out
};

// Parses each entry strictly (ParseIpv4Cidr, ParseIpv6Cidr). Invalid text, networks that would
// capture everything (/0) or touch the loopback range (127.0.0.0/8, ::1) or IPv6's link-local
// fe80::/10 are skipped with a reason; networks inside another listed one are dropped silently
// (they are captured anyway).
CaptureSubnets SelectCaptureSubnets(const std::vector<std::string>& cidrs);

}  // namespace tp::daemon
