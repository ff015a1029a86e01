#include "cluster/manager/dns_forwarder.h"

#include <cerrno>

#include "common/resolv_conf.h"
#include "dns/dns_message.h"
#include "dns/nameserver_query.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

DnsForwarder::DnsForwarder(std::vector<SocketAddress> servers,
                           std::chrono::milliseconds timeout_per_server)
    : servers_(std::move(servers)), timeout_per_server_(timeout_per_server) {}

std::vector<SocketAddress> DnsForwarder::ServersFromResolvConf(const std::string& path) {
  std::vector<SocketAddress> servers;
  for (const std::string& address : NameserverAddressesInResolvConf(path)) {
    if (auto server = ParseSocketAddress(address, 53)) servers.push_back(*server);
  }
  return servers;
}

tunnel::DnsAnswer DnsForwarder::Forward(std::span<const uint8_t> query) const {
  if (query.size() < dns::kHeaderSize) return {EINVAL, {}};
  if (servers_.empty()) return {EHOSTUNREACH, {}};
  for (const SocketAddress& server : servers_) {
    auto reply = dns::AskNameserver(server, query, Clock::now() + timeout_per_server_);
    if (reply) return {0, std::move(*reply)};
  }
  return {ETIMEDOUT, {}};
}

}  // namespace tp::manager
