// This host's (or pod's) own address of a family: the first address of a non-loopback interface
// that is up; for IPv6 not a link-local one. Reads the kernel's view of the current network
// namespace (getifaddrs); safe from any thread.
#pragma once

#include <optional>
#include <string>

namespace tp {

// AF_INET or AF_INET6; nullopt when there is none ("10.213.0.2", "fd00:213::2").
std::optional<std::string> FirstInterfaceAddress(int family);

}  // namespace tp
