#include "daemon/ipv4.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace tp::daemon {
namespace {

constexpr uint32_t kLoopbackNetwork = 0x7f000000;  // 127.0.0.0/8
constexpr int kLoopbackPrefix = 8;

bool Overlaps(const Ipv4Cidr& first, const Ipv4Cidr& second) {
  return first.Contains(second) || second.Contains(first);
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

}  // namespace

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

std::string Ipv4Endpoint::AddressText() const {
  const in_addr network_order{htonl(address)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &network_order, text, sizeof text);
  return text;
}

std::string Ipv4Endpoint::Text() const { return AddressText() + ":" + std::to_string(port); }

uint32_t Ipv4Cidr::Mask() const {
  return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length);
}

bool Ipv4Cidr::Contains(uint32_t address) const { return (address & Mask()) == network; }

bool Ipv4Cidr::Contains(const Ipv4Cidr& other) const {
  return other.prefix_length >= prefix_length && Contains(other.network);
}

std::string Ipv4Cidr::Text() const {
  return Ipv4Endpoint{network, 0}.AddressText() + "/" + std::to_string(prefix_length);
}

std::optional<uint32_t> ParseIpv4Address(std::string_view text) {
  // inet_pton takes exactly four dotted decimal parts and refuses leading zeros.
  const std::string terminated(text);
  in_addr parsed{};
  if (::inet_pton(AF_INET, terminated.c_str(), &parsed) != 1) return std::nullopt;
  return ntohl(parsed.s_addr);
}

std::optional<Ipv4Cidr> ParseIpv4Cidr(std::string_view text, std::string& reason) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    reason = "no /prefix-length";
    return std::nullopt;
  }
  const std::optional<uint32_t> address = ParseIpv4Address(text.substr(0, slash));
  if (!address) {
    reason = "not a dotted decimal IPv4 address";
    return std::nullopt;
  }
  const std::optional<int> prefix_length = ParseDecimal(text.substr(slash + 1));
  if (!prefix_length || *prefix_length > 32) {
    reason = "prefix length is not 0..32";
    return std::nullopt;
  }
  const Ipv4Cidr cidr{*address, *prefix_length};
  if ((*address & ~cidr.Mask()) != 0) {
    reason = "host bits are set (the network would be " +
             Ipv4Cidr{*address & cidr.Mask(), *prefix_length}.Text() + ")";
    return std::nullopt;
  }
  return cidr;
}

CaptureSubnets SelectCaptureSubnets(const std::vector<std::string>& cidrs) {
  CaptureSubnets selected;
  const Ipv4Cidr loopback{kLoopbackNetwork, kLoopbackPrefix};
  std::vector<Ipv4Cidr> candidates;
  for (const std::string& text : cidrs) {
    if (text.find(':') != std::string::npos) {
      selected.skipped.push_back(text + ": IPv6 is not captured");
      continue;
    }
    std::string reason;
    const std::optional<Ipv4Cidr> cidr = ParseIpv4Cidr(text, reason);
    if (!cidr) {
      selected.skipped.push_back(text + ": " + reason);
    } else if (cidr->prefix_length == 0) {
      selected.skipped.push_back(text + ": would capture every address");
    } else if (Overlaps(*cidr, loopback)) {
      selected.skipped.push_back(text + ": overlaps the loopback range");
    } else {
      candidates.push_back(*cidr);
    }
  }
  // Wider networks first, so that a network inside an earlier one is seen to be covered.
  std::sort(candidates.begin(), candidates.end(), [](const Ipv4Cidr& a, const Ipv4Cidr& b) {
    return a.prefix_length != b.prefix_length ? a.prefix_length < b.prefix_length
                                              : a.network < b.network;
  });
  for (const Ipv4Cidr& candidate : candidates) {
    const bool covered =
        std::any_of(selected.networks.begin(), selected.networks.end(),
                    [&](const Ipv4Cidr& kept) { return kept.Contains(candidate); });
    if (!covered) selected.networks.push_back(candidate);
  }
  std::sort(selected.networks.begin(), selected.networks.end());
  return selected;
}

std::vector<std::string> CidrTexts(const std::vector<Ipv4Cidr>& networks) {
  std::vector<std::string> texts;
  texts.reserve(networks.size());
  for (const Ipv4Cidr& network : networks) texts.push_back(network.Text());
  return texts;
}

}  // namespace tp::daemon
