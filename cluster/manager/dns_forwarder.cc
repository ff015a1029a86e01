#include "cluster/manager/dns_forwarder.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "common/resolv_conf.h"
#include "net/tcp_socket.h"
#include "net/unique_fd.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t kDnsHeaderBytes = 12;
constexpr size_t kMaxDnsReplyBytes = 65535;

// Sends `query` to one server and waits for a reply with the same id; empty on failure.
std::vector<uint8_t> AskOne(const SocketAddress& server, std::span<const uint8_t> query,
                            Clock::time_point deadline) {
  UniqueFd socket(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return {};
  if (::connect(socket.Get(), server.get(), server.length) != 0) return {};
  if (::send(socket.Get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) return {};
  std::vector<uint8_t> reply(kMaxDnsReplyBytes);
  while (true) {
    pollfd waiter{socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return {};
    const ssize_t got = ::recv(socket.Get(), reply.data(), reply.size(), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got < 0) return {};
    const bool same_id =
        static_cast<size_t>(got) >= kDnsHeaderBytes && reply[0] == query[0] && reply[1] == query[1];
    if (!same_id) continue;  // a stray or spoofed datagram
    reply.resize(static_cast<size_t>(got));
    return reply;
  }
}

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
  if (query.size() < kDnsHeaderBytes) return {EINVAL, {}};
  if (servers_.empty()) return {EHOSTUNREACH, {}};
  for (const SocketAddress& server : servers_) {
    std::vector<uint8_t> reply = AskOne(server, query, Clock::now() + timeout_per_server_);
    if (!reply.empty()) return {0, std::move(reply)};
  }
  return {ETIMEDOUT, {}};
}

}  // namespace tp::manager
