// Numeric socket addresses: IP text + port <-> sockaddr, and a peer's address. libc only.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace tp {

// One address, ready for socket(), connect(), bind() and sendto().
struct SocketAddress {
  sockaddr_storage storage{};
  socklen_t length = 0;

  int family() const { return storage.ss_family; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&storage); }
};

// A numeric IPv4 or IPv6 address (no brackets) and a port; nullopt when not numeric.
std::optional<SocketAddress> ParseSocketAddress(const std::string& address, uint16_t port);
// A numeric endpoint: "IP", a bare IPv6 address, "IP:PORT" or "[IPv6]:PORT"
// (net/host_port.h); `default_port` when none is given. nullopt when the host is not numeric
// or the port is 0 or malformed.
std::optional<SocketAddress> ParseEndpoint(const std::string& text, uint16_t default_port);
// The numeric address of `address` without its port ("" for other families).
std::string AddressText(const sockaddr_storage& address);
uint16_t AddressPort(const sockaddr_storage& address);
// "1.2.3.4:5678" or "[::1]:5678".
std::string EndpointText(const sockaddr_storage& address);

// The address of a connected socket's peer, without its port; "" when unknown.
std::string PeerAddress(int socket);
// The peer's "address:port" (EndpointText), or "?" when unknown.
std::string PeerText(int socket);

}  // namespace tp
