#include "cluster/manager/interface_subnets.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <memory>

#include "common/ipv6.h"

namespace tp::manager {

std::string NetworkCidr(uint32_t host_order_address, int prefix_length) {
  const uint32_t mask = prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
  in_addr network{htonl(host_order_address & mask)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &network, text, sizeof text);
  return std::string(text) + "/" + std::to_string(prefix_length);
}

std::string Ipv6NetworkCidr(const in6_addr& address, const in6_addr& mask) {
  Ipv6Prefix prefix;
  std::memcpy(prefix.address.data(), address.s6_addr, prefix.address.size());
  for (const uint8_t byte : mask.s6_addr) prefix.length += std::popcount(byte);
  return prefix.Network().ToString();
}

namespace {

// The entry's network, or "" when it is not one to report (another family, link-local IPv6).
std::string EntrySubnet(const ifaddrs& entry) {
  if (entry.ifa_addr->sa_family == AF_INET) {
    const uint32_t address =
        ntohl(reinterpret_cast<const sockaddr_in*>(entry.ifa_addr)->sin_addr.s_addr);
    const uint32_t mask =
        ntohl(reinterpret_cast<const sockaddr_in*>(entry.ifa_netmask)->sin_addr.s_addr);
    return NetworkCidr(address, std::popcount(mask));
  }
  if (entry.ifa_addr->sa_family == AF_INET6) {
    const in6_addr& address = reinterpret_cast<const sockaddr_in6*>(entry.ifa_addr)->sin6_addr;
    if (IN6_IS_ADDR_LINKLOCAL(&address)) return "";
    return Ipv6NetworkCidr(address,
                           reinterpret_cast<const sockaddr_in6*>(entry.ifa_netmask)->sin6_addr);
  }
  return "";
}

}  // namespace

std::vector<std::string> InterfaceSubnets() {
  std::vector<std::string> subnets;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return subnets;
  const std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owner(list, ::freeifaddrs);
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_netmask == nullptr) continue;
    if ((entry->ifa_flags & IFF_LOOPBACK) || !(entry->ifa_flags & IFF_UP)) continue;
    const std::string subnet = EntrySubnet(*entry);
    if (!subnet.empty() && std::find(subnets.begin(), subnets.end(), subnet) == subnets.end()) {
      subnets.push_back(subnet);
    }
  }
  return subnets;
}

}  // namespace tp::manager
