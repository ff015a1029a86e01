#include "daemon/dns_resolver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>

#include <cerrno>
#include <charconv>

#include "common/unique_fd.h"
#include "daemon/cluster_resolv_conf.h"
#include "daemon/dns_message.h"
#include "tunnel/tcp_dial.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
constexpr uint16_t kDnsPort = 53;
constexpr size_t kMaxReplyBytes = 65535;

std::optional<NameserverAddress> NumericAddress(const std::string& host, uint16_t port) {
  NameserverAddress address;
  auto* ipv4 = reinterpret_cast<sockaddr_in*>(&address.storage);
  if (::inet_pton(AF_INET, host.c_str(), &ipv4->sin_addr) == 1) {
    ipv4->sin_family = AF_INET;
    ipv4->sin_port = htons(port);
    address.length = sizeof(sockaddr_in);
    return address;
  }
  auto* ipv6 = reinterpret_cast<sockaddr_in6*>(&address.storage);
  if (::inet_pton(AF_INET6, host.c_str(), &ipv6->sin6_addr) == 1) {
    ipv6->sin6_family = AF_INET6;
    ipv6->sin6_port = htons(port);
    address.length = sizeof(sockaddr_in6);
    return address;
  }
  return std::nullopt;
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned port = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (error != std::errc() || end != text.data() + text.size() || port == 0 || port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

// Sends `query` to `server` and waits until `deadline` for a reply with the same id.
std::optional<std::vector<uint8_t>> AskOne(const NameserverAddress& server,
                                           std::span<const uint8_t> query,
                                           Clock::time_point deadline) {
  UniqueFd socket(::socket(server.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return std::nullopt;
  if (::connect(socket.Get(), reinterpret_cast<const sockaddr*>(&server.storage), server.length) !=
      0) {
    return std::nullopt;
  }
  if (::send(socket.Get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) return std::nullopt;
  std::vector<uint8_t> reply(kMaxReplyBytes);
  while (true) {
    pollfd waiter{socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, tunnel::MillisecondsUntil(deadline)) <= 0) return std::nullopt;
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

std::optional<NameserverAddress> ParseNameserver(const std::string& text) {
  if (auto bare = NumericAddress(text, kDnsPort)) return bare;
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return std::nullopt;  // IPv6 with a port needs brackets
  }
  const auto port = ParsePort(std::string_view(text).substr(colon + 1));
  if (!port) return std::nullopt;
  return NumericAddress(host, *port);
}

std::vector<NameserverAddress> NameserversFromResolvConf(const std::string& path) {
  std::vector<NameserverAddress> servers;
  for (const std::string& address : UpstreamNameserverTexts(path)) {
    if (auto server = ParseNameserver(address)) servers.push_back(*server);
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
