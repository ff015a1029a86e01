#include "teleroute/bridge_forwarding.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <stdexcept>

#include "common/nft_context.h"

namespace tp::teleroute {
namespace {

std::string Tag(const std::string& bridge) { return "\"teleroute " + bridge + "\""; }

std::unique_ptr<NftContext> OpenNftables() {
  std::string error;
  std::unique_ptr<NftContext> nft = NftContext::Create(error, /*with_handles=*/true);
  if (!nft) throw std::runtime_error("cannot use nftables: " + error);
  return nft;
}

}  // namespace

std::vector<unsigned long> TaggedRuleHandles(const std::string& listing,
                                             const std::string& bridge) {
  const std::string tag = "comment " + Tag(bridge);
  const std::string handle_marker = "# handle ";
  std::vector<unsigned long> handles;
  std::istringstream lines(listing);
  for (std::string line; std::getline(lines, line);) {
    const size_t tagged = line.find(tag);
    const size_t handle = line.rfind(handle_marker);
    // The tag must be the whole comment: followed by the handle, not by more of a longer name.
    if (tagged == std::string::npos || handle == std::string::npos || handle < tagged) continue;
    if (line.find_first_not_of(' ', tagged + tag.size()) != handle) continue;
    handles.push_back(std::stoul(line.substr(handle + handle_marker.size())));
  }
  return handles;
}

bool BridgeForwarding::Allowed(const std::string& bridge) {
  std::unique_ptr<NftContext> nft = OpenNftables();
  const NftResult listing = nft->Run("list chain ip " + table_ + " " + chain_);
  return listing.ok && !TaggedRuleHandles(listing.output, bridge).empty();
}

void BridgeForwarding::Allow(const std::string& bridge) {
  std::unique_ptr<NftContext> nft = OpenNftables();
  const NftResult listing = nft->Run("list chain ip " + table_ + " " + chain_);
  if (!listing.ok) {
    spdlog::warn("no chain {} in table ip {} ({}): not adding a forwarding rule for bridge {}",
                 chain_, table_, listing.error, bridge);
    return;
  }
  if (!TaggedRuleHandles(listing.output, bridge).empty()) return;
  const std::string quoted = "\"" + bridge + "\"";
  const NftResult added =
      nft->Run("insert rule ip " + table_ + " " + chain_ + " iifname " + quoted + " oifname " +
               quoted + " counter accept comment " + Tag(bridge));
  if (!added.ok) {
    throw std::runtime_error("cannot let bridge " + bridge + "'s traffic through chain " + chain_ +
                             ": " + added.error);
  }
  spdlog::info("forwarding between the ports of {} allowed in chain {}", bridge, chain_);
}

void BridgeForwarding::Revoke(const std::string& bridge) {
  std::unique_ptr<NftContext> nft = OpenNftables();
  const NftResult listing = nft->Run("list chain ip " + table_ + " " + chain_);
  if (!listing.ok) return;
  for (unsigned long handle : TaggedRuleHandles(listing.output, bridge)) {
    const NftResult deleted =
        nft->Run("delete rule ip " + table_ + " " + chain_ + " handle " + std::to_string(handle));
    if (!deleted.ok) {
      throw std::runtime_error("cannot remove bridge " + bridge + "'s rule from chain " + chain_ +
                               ": " + deleted.error);
    }
  }
}

}  // namespace tp::teleroute
