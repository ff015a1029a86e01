// The IPv4 and IPv6 subnets of this host's interfaces: what the manager reports as the
// cluster's subnets when it is not told them.
#pragma once

#include <netinet/in.h>

#include <string>
#include <vector>

namespace tp::manager {

// "172.18.0.0/16" and "fd00:213::/64"-style networks of every up, non-loopback interface (IPv4
// and IPv6 addresses; not IPv6 link-local ones), without duplicates, in the kernel's order.
std::vector<std::string> InterfaceSubnets();

// The network of `address`/`prefix_length` in CIDR text: ("10.1.2.3", 8) -> "10.0.0.0/8".
std::string NetworkCidr(uint32_t host_order_address, int prefix_length);
// The same for IPv6: ("fd00:213::5", ffff:ffff:ffff:ffff::) -> "fd00:213::/64".
std::string Ipv6NetworkCidr(const in6_addr& address, const in6_addr& mask);

}  // namespace tp::manager
