// The IPv4 subnets of this host's interfaces: what the manager reports as the cluster's
// subnets when it is not told them.
#pragma once

#include <string>
#include <vector>

namespace tp::manager {

// "172.18.0.0/16"-style networks of every up, non-loopback interface with an IPv4 address,
// without duplicates, in interface order.
std::vector<std::string> InterfaceSubnets();

// The network of `address`/`prefix_length` in CIDR text: ("10.1.2.3", 8) -> "10.0.0.0/8".
std::string NetworkCidr(uint32_t host_order_address, int prefix_length);

}  // namespace tp::manager
