#include "dns/nameserver_query.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "dns/dns_message.h"
#include "net/tcp_socket.h"
#include "net/unique_fd.h"

namespace tp::dns {
namespace {

constexpr size_t kMaxReplyBytes = 65535;

}  // namespace

std::optional<std::vector<uint8_t>> AskNameserver(const SocketAddress& server,
                                                  std::span<const uint8_t> query,
                                                  std::chrono::steady_clock::time_point deadline) {
  if (query.size() < kHeaderSize) return std::nullopt;
  UniqueFd socket(::socket(server.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return std::nullopt;
  if (::connect(socket.Get(), server.get(), server.length) != 0) return std::nullopt;
  if (::send(socket.Get(), query.data(), query.size(), MSG_NOSIGNAL) < 0) return std::nullopt;
  std::vector<uint8_t> reply(kMaxReplyBytes);
  while (true) {
    pollfd waiter{socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return std::nullopt;
    const ssize_t got = ::recv(socket.Get(), reply.data(), reply.size(), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got < 0) return std::nullopt;  // e.g. ECONNREFUSED: nobody listens there
    const bool same_id =
        static_cast<size_t>(got) >= kHeaderSize && reply[0] == query[0] && reply[1] == query[1];
    if (!same_id) continue;  // a stray, late or spoofed datagram
    reply.resize(static_cast<size_t>(got));
    return reply;
  }
}

}  // namespace tp::dns
