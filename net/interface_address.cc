#include "net/interface_address.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <cstring>
#include <memory>

#include "net/socket_address.h"

namespace tp {
namespace {

// Whether the entry's address is of `family`, and not an IPv6 link-local one.
bool Wanted(const sockaddr& address, int family) {
  if (address.sa_family != family) return false;
  return family != AF_INET6 ||
         !IN6_IS_ADDR_LINKLOCAL(&reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
}

}  // namespace

std::optional<std::string> FirstInterfaceAddress(int family) {
  ifaddrs* interfaces = nullptr;
  if (::getifaddrs(&interfaces) != 0) return std::nullopt;
  const std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(interfaces, ::freeifaddrs);
  for (const ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    if ((entry->ifa_flags & IFF_LOOPBACK) != 0 || (entry->ifa_flags & IFF_UP) == 0) continue;
    if (!Wanted(*entry->ifa_addr, family)) continue;
    sockaddr_storage address{};
    std::memcpy(&address, entry->ifa_addr,
                family == AF_INET6 ? sizeof(sockaddr_in6) : sizeof(sockaddr_in));
    std::string text = AddressText(address);
    if (!text.empty()) return text;
  }
  return std::nullopt;
}

}  // namespace tp
