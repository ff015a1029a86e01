#include "net/socket_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net/host_port.h"

namespace tp {

std::optional<SocketAddress> ParseSocketAddress(const std::string& address, uint16_t port) {
  SocketAddress result;
  auto* ipv4 = reinterpret_cast<sockaddr_in*>(&result.storage);
  if (::inet_pton(AF_INET, address.c_str(), &ipv4->sin_addr) == 1) {
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(port);
    result.length = sizeof(sockaddr_in);
    return result;
  }
  auto* ipv6 = reinterpret_cast<sockaddr_in6*>(&result.storage);
  if (::inet_pton(AF_INET6, address.c_str(), &ipv6->sin6_addr) == 1) {
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(port);
    result.length = sizeof(sockaddr_in6);
    return result;
  }
  return std::nullopt;
}

std::optional<SocketAddress> ParseEndpoint(const std::string& text, uint16_t default_port) {
  if (auto bare = ParseSocketAddress(text, default_port)) return bare;
  const std::optional<HostPort> address = ParseHostPort(text);
  if (!address || address->port == 0) return std::nullopt;
  return ParseSocketAddress(address->host, address->port);
}

std::string AddressText(const sockaddr_storage& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.ss_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&address)->sin_addr, text,
                sizeof text);
  } else if (address.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&address)->sin6_addr, text,
                sizeof text);
  }
  return text;
}

uint16_t AddressPort(const sockaddr_storage& address) {
  if (address.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(&address)->sin_port);
  }
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6*>(&address)->sin6_port);
  }
  return 0;
}

std::string EndpointText(const sockaddr_storage& address) {
  return HostPortText({AddressText(address), AddressPort(address)});
}

std::string PeerAddress(int socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "";
  return AddressText(address);
}

std::string PeerText(int socket) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (::getpeername(socket, reinterpret_cast<sockaddr*>(&address), &length) != 0) return "?";
  if (address.ss_family != AF_INET && address.ss_family != AF_INET6) return "?";
  return EndpointText(address);
}

}  // namespace tp
