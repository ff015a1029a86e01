// The pod's own addresses: the first IPv4 (IPv6) address of a non-loopback interface that is up;
// for IPv6, not a link-local one.
#pragma once

#include <optional>
#include <string>

namespace tp::agent {

std::optional<std::string> FindPodAddress();
std::optional<std::string> FindPodIpv6Address();  // nullopt on a pod without IPv6

}  // namespace tp::agent
