// The pod's own address: the first IPv4 address of a non-loopback interface that is up.
#pragma once

#include <optional>
#include <string>

namespace tp::agent {

std::optional<std::string> FindPodAddress();

}  // namespace tp::agent
