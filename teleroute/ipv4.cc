#include "teleroute/ipv4.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <stdexcept>

namespace tp::teleroute {
namespace {

std::string_view Trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
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

std::string Ipv4Prefix::ToString() const {
  return address.ToString() + "/" + std::to_string(length);
}

std::optional<Ipv4Address> ParseIpv4Address(std::string_view text) {
  const std::string copy(text);
  in_addr parsed{};
  if (copy.empty() || ::inet_pton(AF_INET, copy.c_str(), &parsed) != 1) return std::nullopt;
  return Ipv4Address{ntohl(parsed.s_addr)};
}

std::optional<Ipv4Prefix> ParseIpv4Prefix(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  std::optional<Ipv4Address> address = ParseIpv4Address(text.substr(0, slash));
  const std::string_view length_text = text.substr(slash + 1);
  int length = -1;
  auto [end, error] =
      std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
  if (!address || length_text.empty() || error != std::errc() ||
      end != length_text.data() + length_text.size() || length < 0 || length > 32) {
    return std::nullopt;
  }
  return Ipv4Prefix{*address, length};
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

}  // namespace tp::teleroute
