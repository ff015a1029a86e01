// IPv4 addresses, prefixes and endpoints as numbers (host byte order), with strict text parsing:
// callers (nftables commands in the daemon, routes in teleroute) are built only from these
// numbers, never from the text they were given. Pure value types and functions, no OS state;
// safe from any thread.
#pragma once

#include <netinet/in.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tp {

struct Ipv4Address {
  uint32_t value = 0;  // host byte order

  std::string ToString() const;  // "10.0.0.1"
  auto operator<=>(const Ipv4Address&) const = default;
};

// An address with a prefix length: an interface address "10.1.0.2/24" may have host bits set; a
// network "10.96.0.0/12" (what ParseIpv4Cidr and ParseSubnetList return) has none.
struct Ipv4Prefix {
  Ipv4Address address;
  int length = 32;

  uint32_t Mask() const;
  Ipv4Prefix Network() const;  // the prefix with its host bits cleared
  bool HasHostBits() const { return Network().address != address; }
  bool Contains(Ipv4Address candidate) const;
  bool Contains(const Ipv4Prefix& other) const;  // every address of `other` is in this prefix
  std::string ToString() const;                  // "a.b.c.d/len"
  bool operator==(const Ipv4Prefix&) const = default;
  auto operator<=>(const Ipv4Prefix& other) const {
    return std::pair(address.value, length) <=> std::pair(other.address.value, other.length);
  }
};

// An IPv4 address and port; `address` in host byte order.
struct Ipv4Endpoint {
  uint32_t address = 0;
  uint16_t port = 0;
  auto operator<=>(const Ipv4Endpoint&) const = default;

  sockaddr_in ToSockaddr() const;
  static Ipv4Endpoint FromSockaddr(const sockaddr_in& address);
  std::string AddressText() const;  // "10.0.0.1"
  std::string Text() const;         // "10.0.0.1:80"
};

// "a.b.c.d" in dotted decimal, four parts, no leading zeros, nothing else; nullopt otherwise.
std::optional<Ipv4Address> ParseIpv4Address(std::string_view text);

// "a.b.c.d/n" with n in 0..32 written without sign or leading zeros. Host bits may be set
// (interface addresses have them). nullopt otherwise.
std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text);

// Like ParseIpv4Prefix, and also refuses host bits, naming the network that was probably meant.
// nullopt with `reason` set otherwise.
std::optional<Ipv4Prefix> ParseIpv4Cidr(std::string_view text, std::string& reason);

// Parses a comma-separated list of subnets ("10.96.0.0/12, 10.244.0.0/16"); spaces around items
// and empty items are ignored. Throws std::invalid_argument naming the bad item, including a
// subnet with host bits set ("did you mean ...?"). The result is sorted and free of duplicates.
std::vector<Ipv4Prefix> ParseSubnetList(std::string_view text);

// The "a.b.c.d/len" texts of `prefixes`.
std::vector<std::string> PrefixTexts(const std::vector<Ipv4Prefix>& prefixes);

}  // namespace tp
