#include "daemon/dns_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>

#include "daemon/cluster_resolv_conf.h"
#include "daemon/dns_message.h"
#include "net/tcp_socket.h"
#include "net/unique_fd.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxReplyBytes = 65535;

// Sends `query` to `server` and waits until `deadline` for a reply with the same id.
std::optional<std::vector<uint8_t>> AskOne(const SocketAddress& server,
                                           std::span<const uint8_t> query,
                                           Clock::time_point deadline) {
  UniqueFd socket(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return std::nullopt;
  if (::connect(socket.Get(), server.get(), server.length) != 0) {
    return std::nullopt;
  }
  if (::send(socket.Get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) return std::nullopt;
  std::vector<uint8_t> reply(kMaxReplyBytes);
  while (true) {
    pollfd waiter{socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return std::nullopt;
    const ssize_t got = ::recv(socket.Get(), reply.data(), reply.size(), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got < 0) return std::nullopt;  // e.g. ECONNREFUSED: nobody listens there
    const bool same_id = static_cast<size_t>(got) >= dns::kHeaderSize && reply[0] == query[0] &&
                         reply[1] == query[1];
    if (!same_id) continue;  // a stray or late datagram
    reply.resize(static_cast<size_t>(got));
    return reply;
  }
}

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
    if (auto reply = AskOne(servers_[index], query, Clock::now() + share)) return reply;
  }
  return std::nullopt;
}

}  // namespace tp::daemon
