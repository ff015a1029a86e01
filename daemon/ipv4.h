// IPv4 addresses, endpoints and CIDR networks as numbers (host byte order), with strict text
// parsing: the capture code builds nftables commands only from these numbers, never from the
// text it was given.
#pragma once

#include <netinet/in.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::daemon {

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

// An IPv4 network: `network` has no bits set past `prefix_length`.
struct Ipv4Cidr {
  uint32_t network = 0;
  int prefix_length = 0;
  auto operator<=>(const Ipv4Cidr&) const = default;

  uint32_t Mask() const;
  bool Contains(uint32_t address) const;
  bool Contains(const Ipv4Cidr& other) const;
  std::string Text() const;  // "10.96.0.0/12"
};

// "a.b.c.d" in dotted decimal, no leading zeros; nullopt otherwise.
std::optional<uint32_t> ParseIpv4Address(std::string_view text);

// "a.b.c.d/n" with n in 0..32 (no sign, no leading zeros) and no host bits set. nullopt with
// `reason` set otherwise.
std::optional<Ipv4Cidr> ParseIpv4Cidr(std::string_view text, std::string& reason);

// The subnets worth capturing out of a list of CIDR texts, and what was left out and why.
struct CaptureSubnets {
  std::vector<Ipv4Cidr> networks;    // sorted, none inside another
  std::vector<std::string> skipped;  // "TEXT: reason", one per entry left out
};

// Parses each entry strictly. IPv6 networks, invalid text, networks that would capture
// everything (/0) or touch the loopback range 127.0.0.0/8 are skipped with a reason; networks
// inside another listed one are dropped silently (they are captured anyway).
CaptureSubnets SelectCaptureSubnets(const std::vector<std::string>& cidrs);

// The CIDR texts of `networks`.
std::vector<std::string> CidrTexts(const std::vector<Ipv4Cidr>& networks);

}  // namespace tp::daemon
