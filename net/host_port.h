// HostPort: the one form of a "HOST:PORT" text in the project (command-line options, listen and
// connect addresses, resolv.conf entries with a port). IPv6 hosts are written in brackets.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp {

struct HostPort {
  std::string host;  // a name or a numeric address, IPv6 without brackets; never empty
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// "HOST:PORT" or "[IPv6]:PORT" into its parts. nullopt when there is no port, the port is not a
// decimal number 0..65535, the host is empty, or an IPv6 host lacks its brackets. Port 0 is
// accepted (a listener then gets a free one); callers that connect refuse it themselves.
std::optional<HostPort> ParseHostPort(std::string_view text);

// "host:port", with brackets around an IPv6 host; ParseHostPort(HostPortText(x)) == x.
std::string HostPortText(const HostPort& address);

// A decimal port 0..65535 with nothing around it; nullopt otherwise.
std::optional<uint16_t> ParsePort(std::string_view text);
// A port something listens on or is reached at: as ParsePort, without 0.
std::optional<uint16_t> ParseServicePort(std::string_view text);

}  // namespace tp
