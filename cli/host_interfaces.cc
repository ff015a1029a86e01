#include "cli/host_interfaces.h"

#include <arpa/inet.h>
#include <ifaddrs.h>

#include <memory>

namespace tp::cli {

std::optional<Ipv4Prefix> InterfaceIpv4Address(const std::string& name) {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return std::nullopt;
  std::unique_ptr<ifaddrs, decltype(&::freeifaddrs)> owned(list, &::freeifaddrs);
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    if (entry->ifa_netmask == nullptr || name != entry->ifa_name) continue;
    const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    const auto* mask = reinterpret_cast<const sockaddr_in*>(entry->ifa_netmask);
    const int length = __builtin_popcount(ntohl(mask->sin_addr.s_addr));
    return Ipv4Prefix{.address = {ntohl(address->sin_addr.s_addr)}, .length = length};
  }
  return std::nullopt;
}

}  // namespace tp::cli
