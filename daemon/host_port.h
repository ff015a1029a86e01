// "HOST:PORT" and "[IPv6]:PORT" command-line addresses, split into a host and a port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp::daemon {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
  bool operator==(const HostPort&) const = default;
};

// nullopt when there is no port, the port is not 0..65535, the host is empty, or an IPv6 host
// lacks brackets. Port 0 is accepted (listeners: the kernel picks one).
std::optional<HostPort> ParseHostPort(std::string_view text);
// "host:port", with brackets around an IPv6 host.
std::string HostPortText(const HostPort& address);

}  // namespace tp::daemon
