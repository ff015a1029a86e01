#include "net/interface_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <memory>

namespace tp {
namespace {

// The entry's address text when it is of `family` and not link-local; "" otherwise.
std::string AddressText(const sockaddr& address, int family) {
  char text[INET6_ADDRSTRLEN] = {};
  if (family == AF_INET && address.sa_family == AF_INET) {
    const auto& ipv4 = reinterpret_cast<const sockaddr_in&>(address);
    return ::inet_ntop(AF_INET, &ipv4.sin_addr, text, sizeof text) ? text : "";
  }
  if (family == AF_INET6 && address.sa_family == AF_INET6) {
    const auto& ipv6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (IN6_IS_ADDR_LINKLOCAL(&ipv6.sin6_addr)) return "";
    return ::inet_ntop(AF_INET6, &ipv6.sin6_addr, text, sizeof text) ? text : "";
  }
  return "";
}

}  // namespace

std::optional<std::string> FirstInterfaceAddress(int family) {
  ifaddrs* interfaces = nullptr;
  if (::getifaddrs(&interfaces) != 0) return std::nullopt;
  const std::unique_ptr<ifaddrs, void (*)(ifaddrs*)> owner(interfaces, ::freeifaddrs);
  for (const ifaddrs* entry = interfaces; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr) continue;
    if ((entry->ifa_flags & IFF_LOOPBACK) != 0 || (entry->ifa_flags & IFF_UP) == 0) continue;
    std::string text = AddressText(*entry->ifa_addr, family);
    if (!text.empty()) return text;
  }
  return std::nullopt;
}

}  // namespace tp
