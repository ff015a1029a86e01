#include "cluster/agent/pod_address.h"

#include <sys/socket.h>

#include "net/interface_address.h"

namespace tp::agent {

std::optional<std::string> FindPodAddress() { return FirstInterfaceAddress(AF_INET); }

std::optional<std::string> FindPodIpv6Address() { return FirstInterfaceAddress(AF_INET6); }

}  // namespace tp::agent
