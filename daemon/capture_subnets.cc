#include "daemon/capture_subnets.h"

#include <algorithm>
#include <optional>

namespace tp::daemon {
namespace {

constexpr uint32_t kLoopbackNetwork = 0x7f000000;  // 127.0.0.0/8
constexpr int kLoopbackPrefix = 8;

bool Overlaps(const Ipv4Prefix& first, const Ipv4Prefix& second) {
  return first.Contains(second) || second.Contains(first);
}

}  // namespace

CaptureSubnets SelectCaptureSubnets(const std::vector<std::string>& cidrs) {
  CaptureSubnets selected;
  const Ipv4Prefix loopback{{kLoopbackNetwork}, kLoopbackPrefix};
  std::vector<Ipv4Prefix> candidates;
  for (const std::string& text : cidrs) {
    if (text.find(':') != std::string::npos) {
      selected.skipped.push_back(text + ": IPv6 is not captured");
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
  // Wider networks first, so that a network inside an earlier one is seen to be covered.
  std::sort(candidates.begin(), candidates.end(), [](const Ipv4Prefix& a, const Ipv4Prefix& b) {
    return a.length != b.length ? a.length < b.length : a.address < b.address;
  });
  for (const Ipv4Prefix& candidate : candidates) {
    const bool covered =
        std::any_of(selected.networks.begin(), selected.networks.end(),
                    [&](const Ipv4Prefix& kept) { return kept.Contains(candidate); });
    if (!covered) selected.networks.push_back(candidate);
  }
  std::sort(selected.networks.begin(), selected.networks.end());
  return selected;
}

}  // namespace tp::daemon
