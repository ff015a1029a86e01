// Numeric IP address + port <-> sockaddr, for the manager's UDP and DNS sockets.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tp::manager {

struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// A numeric IPv4 or IPv6 address (no brackets) and a port; nullopt when not numeric.
std::optional<SocketAddress> ParseSocketAddress(const std::string& address, uint16_t port);
// "IP", "IP:PORT", "[IPv6]:PORT" or a bare IPv6 address; `default_port` when none is given.
std::optional<SocketAddress> ParseEndpoint(const std::string& text, uint16_t default_port);
// The numeric address and port of `address`.
std::string AddressText(const sockaddr_storage& address);
uint16_t AddressPort(const sockaddr_storage& address);

}  // namespace tp::manager
