#include "daemon/capture_subnets.h"

#include <algorithm>
#include <optional>

namespace tp::daemon {
namespace {

constexpr uint32_t kLoopbackNetwork = 0x7f000000;  // 127.0.0.0/8
constexpr int kLoopbackPrefix = 8;
const Ipv6Prefix kIpv6Loopback{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 128};  // ::1/128
const Ipv6Prefix kIpv6LinkLocal{{0xfe, 0x80}, 10};                                      // fe80::/10

template <typename Prefix>
bool Overlaps(const Prefix& first, const Prefix& second) {
  return first.Contains(second) || second.Contains(first);
}

// Wider networks first, so that a network inside an earlier one is seen to be covered; then
// sorted.
template <typename Prefix>
std::vector<Prefix> Uncovered(std::vector<Prefix> candidates) {
  std::sort(candidates.begin(), candidates.end(), [](const Prefix& a, const Prefix& b) {
    return a.length != b.length ? a.length < b.length : a.address < b.address;
  });
  std::vector<Prefix> kept;
  for (const Prefix& candidate : candidates) {
    const bool covered = std::any_of(
        kept.begin(), kept.end(), [&](const Prefix& wider) { return wider.Contains(candidate); });
    if (!covered) kept.push_back(candidate);
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

// "TEXT: reason" when the IPv6 network cannot be captured, else "" (and `candidates` has it).
std::string SelectIpv6(const std::string& text, std::vector<Ipv6Prefix>& candidates) {
  std::string reason;
  const std::optional<Ipv6Prefix> cidr = ParseIpv6Cidr(text, reason);
  if (!cidr) return text + ": " + reason;
  if (cidr->length == 0) return text + ": would capture every address";
  if (Overlaps(*cidr, kIpv6Loopback)) return text + ": overlaps the loopback address";
  if (Overlaps(*cidr, kIpv6LinkLocal)) return text + ": overlaps the link-local range";
  candidates.push_back(*cidr);
  return "";
}

}  // namespace

CaptureSubnets SelectCaptureSubnets(const std::vector<std::string>& cidrs) {
  CaptureSubnets selected;
  const Ipv4Prefix loopback{{kLoopbackNetwork}, kLoopbackPrefix};
  std::vector<Ipv4Prefix> candidates;
  std::vector<Ipv6Prefix> candidates6;
  for (const std::string& text : cidrs) {
    if (text.find(':') != std::string::npos) {
      if (std::string skipped = SelectIpv6(text, candidates6); !skipped.empty()) {
        selected.skipped.push_back(std::move(skipped));
      }
      continue;
    }
    std::string reason;
    const std::optional<Ipv4Prefix> cidr = ParseIpv4Cidr(text, reason);
    if (!cidr) {
      selected.skipped.push_back(text + ": " + reason);
    } else if (cidr->length == 0) {
      selected.skipped.push_back(text + ": would capture every address");
    } else if (Overlaps(*cidr, loopback)) {
      selected.skipped.push_back(text + ": overlaps the loopback range");
    } else {
      candidates.push_back(*cidr);
    }
  }
  selected.networks = Uncovered(std::move(candidates));
  selected.networks6 = Uncovered(std::move(candidates6));
  return selected;
}

}  // namespace tp::daemon
