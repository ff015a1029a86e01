#include "daemon/dns_resolver.h"

#include "daemon/cluster_resolv_conf.h"
#include "dns/dns_message.h"
#include "dns/nameserver_query.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t kDnsPort = 53;

}  // namespace

std::optional<std::vector<uint8_t>> TunnelDnsResolver::Resolve(std::span<const uint8_t> query,
                                                               std::chrono::milliseconds timeout) {
  tunnel::DnsResult result = connection_.QueryDns(query, Clock::now() + timeout);
  if (result.error != 0 || result.message.empty()) return std::nullopt;
  return std::move(result.message);
}

std::vector<SocketAddress> NameserversFromResolvConf(const std::string& path) {
  std::vector<SocketAddress> servers;
  for (const std::string& address : UpstreamNameserverTexts(path)) {
    if (auto server = ParseEndpoint(address, kDnsPort)) servers.push_back(*server);
  }
  return servers;
}

std::optional<std::vector<uint8_t>> UdpDnsResolver::Resolve(std::span<const uint8_t> query,
                                                            std::chrono::milliseconds timeout) {
  if (query.size() < dns::kHeaderSize) return std::nullopt;
  const Clock::time_point deadline = Clock::now() + timeout;
  for (size_t index = 0; index < servers_.size(); ++index) {
    const auto left = deadline - Clock::now();
    if (left <= Clock::duration::zero()) break;
    const auto share = left / static_cast<long>(servers_.size() - index);
    if (auto reply = dns::AskNameserver(servers_[index], query, Clock::now() + share)) {
      return reply;
    }
  }
  return std::nullopt;
}

}  // namespace tp::daemon
