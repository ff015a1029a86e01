#include "common/ipv4.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace tp {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// A decimal number without sign or leading zeros ("0" itself is fine).
std::optional<int> ParseDecimal(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  if (!std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// Splits "address/length"; `reason` says which part is wrong.
std::optional<Ipv4Prefix> ParsePrefix(std::string_view text, std::string& reason) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    reason = "no /prefix-length";
    return std::nullopt;
  }
  const std::optional<Ipv4Address> address = ParseIpv4Address(text.substr(0, slash));
  if (!address) {
    reason = "not a dotted decimal IPv4 address";
    return std::nullopt;
  }
  const std::optional<int> length = ParseDecimal(text.substr(slash + 1));
  if (!length || *length > 32) {
    reason = "prefix length is not 0..32";
    return std::nullopt;
  }
  return Ipv4Prefix{*address, *length};
}

}  // namespace

std::string Ipv4Address::ToString() const {
  return std::to_string(value >> 24) + "." + std::to_string((value >> 16) & 0xff) + "." +
         std::to_string((value >> 8) & 0xff) + "." + std::to_string(value & 0xff);
}

uint32_t Ipv4Prefix::Mask() const { return length == 0 ? 0 : ~uint32_t{0} << (32 - length); }

Ipv4Prefix Ipv4Prefix::Network() const { return {{address.value & Mask()}, length}; }

bool Ipv4Prefix::Contains(Ipv4Address candidate) const {
  return (candidate.value & Mask()) == (address.value & Mask());
}

bool Ipv4Prefix::Contains(const Ipv4Prefix& other) const {
  return other.length >= length && Contains(other.address);
}

std::string Ipv4Prefix::ToString() const {
  return address.ToString() + "/" + std::to_string(length);
}

sockaddr_in Ipv4Endpoint::ToSockaddr() const {
  sockaddr_in socket_address{};
  socket_address.sin_family = AF_INET;
  socket_address.sin_addr.s_addr = htonl(address);
  socket_address.sin_port = htons(port);
  return socket_address;
}

Ipv4Endpoint Ipv4Endpoint::FromSockaddr(const sockaddr_in& socket_address) {
  return {ntohl(socket_address.sin_addr.s_addr), ntohs(socket_address.sin_port)};
}

std::string Ipv4Endpoint::AddressText() const { return Ipv4Address{address}.ToString(); }

std::string Ipv4Endpoint::Text() const { return AddressText() + ":" + std::to_string(port); }

std::optional<Ipv4Address> ParseIpv4Address(std::string_view text) {
  // inet_pton takes exactly four dotted decimal parts and refuses leading zeros.
  const std::string terminated(text);
  in_addr parsed{};
  if (terminated.empty() || ::inet_pton(AF_INET, terminated.c_str(), &parsed) != 1) {
    return std::nullopt;
  }
  return Ipv4Address{ntohl(parsed.s_addr)};
}

std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text) {
  std::string ignored;
  return ParsePrefix(text, ignored);
}

std::optional<Ipv4Prefix> ParseIpv4Cidr(std::string_view text, std::string& reason) {
  const std::optional<Ipv4Prefix> prefix = ParsePrefix(text, reason);
  if (!prefix) return std::nullopt;
  if (prefix->HasHostBits()) {
    reason = "host bits are set (the network would be " + prefix->Network().ToString() + ")";
    return std::nullopt;
  }
  return prefix;
}

std::vector<Ipv4Prefix> ParseSubnetList(std::string_view text) {
  std::vector<Ipv4Prefix> subnets;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = Trim(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    if (item.empty()) continue;
    std::optional<Ipv4Prefix> subnet = ParseIpv4Prefix(item);
    if (!subnet) {
      throw std::invalid_argument("\"" + std::string(item) +
                                  "\" is not an IPv4 subnet in CIDR form (like 10.96.0.0/12)");
    }
    if (subnet->HasHostBits()) {
      throw std::invalid_argument("subnet " + std::string(item) +
                                  " has host bits set; did you mean " +
                                  subnet->Network().ToString() + "?");
    }
    subnets.push_back(*subnet);
  }
  std::sort(subnets.begin(), subnets.end());
  subnets.erase(std::unique(subnets.begin(), subnets.end()), subnets.end());
  return subnets;
}

std::vector<std::string> PrefixTexts(const std::vector<Ipv4Prefix>& prefixes) {
  std::vector<std::string> texts;
  texts.reserve(prefixes.size());
  for (const Ipv4Prefix& prefix : prefixes) texts.push_back(prefix.ToString());
  return texts;
}

}  // namespace tp
