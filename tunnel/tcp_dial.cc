#include "tunnel/tcp_dial.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/resolve.h"

namespace tp::tunnel {
namespace {

using Clock = std::chrono::steady_clock;

// Waits for a non-blocking connect to finish; returns 0 or the errno of the failure.
int FinishConnect(int socket, Clock::time_point deadline) {
  pollfd waiter{socket, POLLOUT, 0};
  int ready = 0;
  do {
    ready = ::poll(&waiter, 1, MillisecondsUntil(deadline));
  } while (ready < 0 && errno == EINTR);
  if (ready == 0) return ETIMEDOUT;
  if (ready < 0) return errno;
  int socket_error = 0;
  socklen_t length = sizeof socket_error;
  ::getsockopt(socket, SOL_SOCKET, SO_ERROR, &socket_error, &length);
  return socket_error;
}

// Connects to one resolved address; returns 0 and the socket, or the errno.
int ConnectOne(const SocketAddress& address, Clock::time_point deadline, UniqueFd& out) {
  UniqueFd socket(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return errno;
  int error = 0;
  if (::connect(socket.Get(), address.get(), address.length) != 0) {
    error = errno == EINPROGRESS ? FinishConnect(socket.Get(), deadline) : errno;
  }
  if (error != 0) return error;
  ::fcntl(socket.Get(), F_SETFL, ::fcntl(socket.Get(), F_GETFL) & ~O_NONBLOCK);
  const int enable = 1;
  ::setsockopt(socket.Get(), IPPROTO_TCP, TCP_NODELAY, &enable, sizeof enable);
  out = std::move(socket);
  return 0;
}

}  // namespace

int MillisecondsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

DialResult DialTcp(const std::string& host, uint16_t port, Clock::time_point deadline) {
  DialResult result;
  const Resolution resolution = ResolveTcp(host, port, deadline);
  if (!resolution.ok()) {
    result.error = EADDRNOTAVAIL;
    result.message = resolution.error;
    return result;
  }
  const std::string target = host + ":" + std::to_string(port);
  result.error = EADDRNOTAVAIL;
  for (const SocketAddress& address : resolution.addresses) {
    result.error = ConnectOne(address, deadline, result.socket);
    if (result.error == 0) {
      result.message.clear();
      return result;
    }
    result.message = "cannot connect to " + target + ": " + std::strerror(result.error);
    if (Clock::now() >= deadline) break;
  }
  return result;
}

}  // namespace tp::tunnel
