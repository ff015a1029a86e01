#include "daemon/capture_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace tp::daemon {
namespace {

constexpr size_t kMaxTableNameLength = 32;
// IP protocol numbers, not names: libnftables would look names up in /etc/protocols, which the
// daemon's image does not have.
constexpr int kTcp = 6;
constexpr int kUdp = 17;

bool ValidTableName(const std::string& name) {
  return !name.empty() && name.size() <= kMaxTableNameLength &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
         });
}

std::string MarkText(uint32_t mark) { return fmt::format("{:#x}", mark); }

// "flush set ..." then "add element ..." (when there are elements): one transaction.
std::string ReplaceElementsCommands(const std::string& table,
                                    const std::vector<Ipv4Prefix>& networks) {
  std::string commands = fmt::format("flush set ip {} {}\n", table, kCaptureSetName);
  if (networks.empty()) return commands;
  commands += fmt::format("add element ip {} {} {{ {} }}\n", table, kCaptureSetName,
                          fmt::join(PrefixTexts(networks), ", "));
  return commands;
}

// Creating (if missing) then deleting the table removes a leftover one without failing when
// there is none; the new table follows in the same transaction.
std::string InstallCommands(const CaptureTableOptions& options,
                            const std::vector<Ipv4Prefix>& networks) {
  const std::string& table = options.table_name;
  const std::string mark = MarkText(options.mark);
  std::string commands = fmt::format("add table ip {0}\ndelete table ip {0}\n", table);
  commands += fmt::format(
      "table ip {0} {{\n"
      "  set {1} {{ type ipv4_addr; flags interval; }}\n"
      "  chain prerouting {{\n"
      "    type filter hook prerouting priority mangle; policy accept;\n"
      "    ip daddr @{1} meta l4proto {2} tproxy to :{4} meta mark set {5} accept\n"
      "    ip daddr @{1} meta l4proto {3} tproxy to :{4} meta mark set {5} accept\n"
      "  }}\n"
      "  chain output {{\n"
      "    type route hook output priority mangle; policy accept;\n"
      "    ip daddr @{1} meta l4proto {{ {2}, {3} }} meta mark set {5}\n"
      "  }}\n"
      "}}\n",
      table, kCaptureSetName, kTcp, kUdp, options.port, mark);
  return commands + ReplaceElementsCommands(table, networks);
}

}  // namespace

std::unique_ptr<CaptureTable> CaptureTable::Install(const CaptureTableOptions& options,
                                                    const std::vector<Ipv4Prefix>& networks,
                                                    std::string& error) {
  if (!ValidTableName(options.table_name) || options.port == 0) {
    error = "invalid capture table options (name \"" + options.table_name + "\", port " +
            std::to_string(options.port) + ")";
    return nullptr;
  }
  std::unique_ptr<NftContext> nft = NftContext::Create(error);
  if (!nft) return nullptr;
  const NftResult result = nft->Run(InstallCommands(options, networks));
  if (!result.ok) {
    error = "nftables refused the capture table: " + result.error;
    return nullptr;
  }
  return std::unique_ptr<CaptureTable>(new CaptureTable(options, std::move(nft)));
}

CaptureTable::~CaptureTable() {
  std::lock_guard lock(mutex_);
  const NftResult result = nft_->Run("delete table ip " + options_.table_name + "\n");
  if (!result.ok) {
    spdlog::warn("capture: cannot delete table ip {}: {}", options_.table_name, result.error);
  }
}

bool CaptureTable::ReplaceSubnets(const std::vector<Ipv4Prefix>& networks, std::string& error) {
  std::lock_guard lock(mutex_);
  const NftResult result = nft_->Run(ReplaceElementsCommands(options_.table_name, networks));
  if (!result.ok) error = "nftables refused the new subnets: " + result.error;
  return result.ok;
}

}  // namespace tp::daemon
