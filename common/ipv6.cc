#include "common/ipv6.h"

#include <arpa/inet.h>

#include <charconv>

namespace tp {
namespace {

// Whether bit `index` (0 = the first, most significant) is a host bit of a /length prefix.
bool IsHostBit(int index, int length) { return index >= length; }

uint8_t HostMask(size_t byte, int length) {
  uint8_t mask = 0;
  for (int bit = 0; bit < 8; ++bit) {
    if (IsHostBit(static_cast<int>(byte) * 8 + bit, length))
      mask |= static_cast<uint8_t>(0x80 >> bit);
  }
  return mask;
}

}  // namespace

std::array<uint8_t, 16> Ipv6Prefix::Last() const {
  std::array<uint8_t, 16> last = address;
  for (size_t byte = 0; byte < last.size(); ++byte) last[byte] |= HostMask(byte, length);
  return last;
}

bool Ipv6Prefix::HasHostBits() const {
  for (size_t byte = 0; byte < address.size(); ++byte) {
    if ((address[byte] & HostMask(byte, length)) != 0) return true;
  }
  return false;
}

bool Ipv6Prefix::Contains(const Ipv6Prefix& other) const {
  if (other.length < length) return false;
  for (size_t byte = 0; byte < address.size(); ++byte) {
    const uint8_t network = static_cast<uint8_t>(~HostMask(byte, length));
    if ((address[byte] & network) != (other.address[byte] & network)) return false;
  }
  return true;
}

std::string Ipv6Address::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, bytes.data(), text, sizeof text);
  return text;
}

Ipv6Prefix Ipv6Prefix::Network() const {
  Ipv6Prefix network = *this;
  for (size_t byte = 0; byte < network.address.size(); ++byte) {
    network.address[byte] &= static_cast<uint8_t>(~HostMask(byte, length));
  }
  return network;
}

std::string Ipv6Prefix::ToString() const {
  return Address().ToString() + "/" + std::to_string(length);
}

std::optional<Ipv6Address> ParseIpv6Address(std::string_view text) {
  Ipv6Address address;
  const std::string copy(text);
  if (::inet_pton(AF_INET6, copy.c_str(), address.bytes.data()) != 1) return std::nullopt;
  return address;
}

namespace {

// "ADDRESS/LENGTH", host bits allowed; nullopt with `reason` set for anything else.
std::optional<Ipv6Prefix> ParsePrefix(std::string_view text, std::string& reason) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    reason = "not an IPv6 network (ADDRESS/LENGTH)";
    return std::nullopt;
  }
  const std::optional<Ipv6Address> address = ParseIpv6Address(text.substr(0, slash));
  if (!address) {
    reason = "not an IPv6 address: " + std::string(text.substr(0, slash));
    return std::nullopt;
  }
  const std::string_view length = text.substr(slash + 1);
  int value = -1;
  const auto [end, error] = std::from_chars(length.data(), length.data() + length.size(), value);
  if (error != std::errc() || end != length.data() + length.size() || length.empty() || value < 0 ||
      value > 128) {
    reason = "the prefix length must be 0 to 128";
    return std::nullopt;
  }
  return Ipv6Prefix{address->bytes, value};
}

}  // namespace

std::optional<Ipv6Prefix> ParseIpv6Prefix(std::string_view text) {
  std::string ignored;
  return ParsePrefix(text, ignored);
}

std::optional<Ipv6Prefix> ParseIpv6Cidr(std::string_view text, std::string& reason) {
  std::optional<Ipv6Prefix> prefix = ParsePrefix(text, reason);
  if (prefix && prefix->HasHostBits()) {
    reason = "host bits are set; the network is " + prefix->Network().ToString();
    return std::nullopt;
  }
  return prefix;
}

std::vector<std::string> PrefixTexts(const std::vector<Ipv6Prefix>& prefixes) {
  std::vector<std::string> texts;
  texts.reserve(prefixes.size());
  for (const Ipv6Prefix& prefix : prefixes) texts.push_back(prefix.ToString());
  return texts;
}

}  // namespace tp
