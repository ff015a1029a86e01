// IPv6 networks as the capture needs them: parsed strictly from CIDR text into numbers, so that
// nftables and netlink requests are built from bytes, never from text. Pure; thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp {

struct Ipv6Address {
  std::array<uint8_t, 16> bytes{};  // network byte order
  std::string ToString() const;     // "fd00:213::2"
  auto operator<=>(const Ipv6Address&) const = default;
};

struct Ipv6Prefix {
  std::array<uint8_t, 16> address{};  // network byte order
  int length = 0;                     // 0..128

  // The last address of the prefix (every host bit set).
  std::array<uint8_t, 16> Last() const;
  bool HasHostBits() const;
  // Whether every address of `other` is in this prefix.
  bool Contains(const Ipv6Prefix& other) const;
  bool Contains(const Ipv6Address& other) const { return Contains(Ipv6Prefix{other.bytes, 128}); }
  // The prefix with its host bits cleared ("fd00::1/64" -> "fd00::/64").
  Ipv6Prefix Network() const;
  Ipv6Address Address() const { return Ipv6Address{address}; }
  std::string ToString() const;  // "fd00:213::/64"
  auto operator<=>(const Ipv6Prefix&) const = default;
};

// "fd00:213::/64": nullopt with `reason` set for anything else (no prefix length, an IPv4 text,
// host bits set: the network that was probably meant is named).
std::optional<Ipv6Prefix> ParseIpv6Cidr(std::string_view text, std::string& reason);
// "fd00:213::1/64", host bits allowed (an interface address with its prefix length, as Docker's
// IPAM gives them); nullopt for anything else.
std::optional<Ipv6Prefix> ParseIpv6Prefix(std::string_view text);
// "fd00:213::2" (no prefix length); nullopt for anything else.
std::optional<Ipv6Address> ParseIpv6Address(std::string_view text);

// The "address/len" texts of `prefixes` (as common/ipv4.h's PrefixTexts).
std::vector<std::string> PrefixTexts(const std::vector<Ipv6Prefix>& prefixes);

}  // namespace tp
