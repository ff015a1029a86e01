// Pure IPv4 address and prefix helpers for the Teleroute driver: parsing the "ip/len" and CIDR
// strings dockerd and users give, containment checks, and canonical text. No OS access.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::teleroute {

struct Ipv4Address {
  uint32_t value = 0;  // host byte order

  std::string ToString() const;
  bool operator==(const Ipv4Address&) const = default;
};

// An address with a prefix length, e.g. an interface address "10.1.0.2/24" or a subnet
// "10.96.0.0/12" (for a subnet, the host bits are zero).
struct Ipv4Prefix {
  Ipv4Address address;
  int length = 32;

  uint32_t Mask() const;
  Ipv4Prefix Network() const;  // the prefix with its host bits cleared
  bool HasHostBits() const { return Network().address != address; }
  bool Contains(Ipv4Address candidate) const;
  std::string ToString() const;  // "a.b.c.d/len"
  bool operator==(const Ipv4Prefix&) const = default;
  auto operator<=>(const Ipv4Prefix& other) const {
    return std::pair(address.value, length) <=> std::pair(other.address.value, other.length);
  }
};

// "a.b.c.d" in dotted-quad form, nothing else.
std::optional<Ipv4Address> ParseIpv4Address(std::string_view text);
// "a.b.c.d/len" with 0 <= len <= 32. Host bits may be set (interface addresses have them).
std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text);

// Parses a comma-separated list of subnets ("10.96.0.0/12, 10.244.0.0/16"); spaces around items
// and empty items are ignored. Throws std::invalid_argument naming the bad item, including a
// subnet with host bits set. The result is sorted and free of duplicates.
std::vector<Ipv4Prefix> ParseSubnetList(std::string_view text);

}  // namespace tp::teleroute
