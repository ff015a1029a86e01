// This host's network interfaces as the CLI needs them (the addresses of Docker's bridges).
// Reads the kernel's view of the current network namespace; safe from any thread.
#pragma once

#include <optional>
#include <string>

#include "common/ipv4.h"

namespace tp::cli {

// The first IPv4 address (with its prefix length) of interface `name` in this network
// namespace; nullopt when there is no such interface, it has no IPv4 address, or the kernel
// cannot be asked.
std::optional<Ipv4Prefix> InterfaceIpv4Address(const std::string& name);

}  // namespace tp::cli
