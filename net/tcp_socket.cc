#include "net/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>

#include "net/resolve.h"

namespace tp {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kListenBacklog = 64;
// How long a host name may take to resolve (a name server that never answers would otherwise
// hold the caller for the resolver's timeout x attempts x servers, or forever).
constexpr std::chrono::seconds kResolveTimeout{10};

UniqueFd BindAndListen(const SocketAddress& address, std::string& error) {
  UniqueFd socket(::socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  const int enable = 1;
  setsockopt(socket.Get(), SOL_SOCKET, SO_REUSEADDR, &enable, sizeof enable);
  if (::bind(socket.Get(), address.get(), address.length) != 0) {
    error = std::string("bind: ") + std::strerror(errno);
    return {};
  }
  if (::listen(socket.Get(), kListenBacklog) != 0) {
    error = std::string("listen: ") + std::strerror(errno);
    return {};
  }
  return socket;
}

// Fills the listener's numeric bound host and port from the socket itself.
bool ReadBoundAddress(TcpListener& listener, std::string& error) {
  sockaddr_storage address{};
  socklen_t length = sizeof address;
  if (getsockname(listener.socket.Get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    error = std::string("getsockname: ") + std::strerror(errno);
    return false;
  }
  char host[NI_MAXHOST];
  char port[NI_MAXSERV];
  const int status = getnameinfo(reinterpret_cast<sockaddr*>(&address), length, host, sizeof host,
                                 port, sizeof port, NI_NUMERICHOST | NI_NUMERICSERV);
  if (status != 0) {
    error = std::string("getnameinfo: ") + gai_strerror(status);
    return false;
  }
  listener.bound_host = address.ss_family == AF_INET6 ? "[" + std::string(host) + "]" : host;
  listener.bound_port = std::stoi(port);
  return true;
}

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
  EnableNoDelay(socket.Get());
  out = std::move(socket);
  return 0;
}

}  // namespace

TcpListener ListenTcp(const HostPort& address, std::string& error) {
  const std::string text = HostPortText(address);
  const Resolution resolution =
      ResolveTcp(address.host, address.port, Clock::now() + kResolveTimeout);
  if (!resolution.ok()) {
    error = "cannot listen on " + text + ": " + resolution.error;
    return {};
  }
  std::vector<SocketAddress> candidates = resolution.addresses;
  if (!address.host.empty()) {
    // A name with both families ("localhost": ::1 and 127.0.0.1, ::1 first by RFC 6724) binds
    // its IPv4 address: never ::1 alone by surprise, where 127.0.0.1 is what clients dial.
    std::stable_partition(candidates.begin(), candidates.end(),
                          [](const SocketAddress& one) { return one.family() == AF_INET; });
  }
  for (const SocketAddress& candidate : candidates) {
    TcpListener listener;
    listener.socket = BindAndListen(candidate, error);
    if (!listener.socket.Valid()) continue;
    if (!ReadBoundAddress(listener, error)) return {};
    return listener;
  }
  error = "cannot listen on " + text + ": " + error;
  return {};
}

TcpListener ListenTcp(const std::string& host_port, std::string& error) {
  const std::optional<HostPort> address = ParseHostPort(host_port);
  if (!address) {
    error = "expected HOST:PORT, got '" + host_port + "'";
    return {};
  }
  return ListenTcp(*address, error);
}

DialResult DialTcp(const std::string& host, uint16_t port, Clock::time_point deadline) {
  DialResult result;
  const Resolution resolution = ResolveTcp(host, port, deadline);
  if (!resolution.ok()) {
    result.error = EADDRNOTAVAIL;
    result.message = resolution.error;
    return result;
  }
  const std::string target = HostPortText({host, port});
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

int MillisecondsUntil(Clock::time_point deadline) {
  const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<int64_t>(left, 0, std::numeric_limits<int>::max()));
}

void EnableNoDelay(int socket) {
  const int enable = 1;
  setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &enable, sizeof enable);
}

bool WritePortFile(const std::string& path, int port, std::string& error) {
  const std::string temporary = path + ".tmp." + std::to_string(::getpid());
  const std::string text = std::to_string(port) + "\n";
  {
    UniqueFd file(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!file.Valid() ||
        ::write(file.Get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
      error = "cannot write " + temporary + ": " + std::strerror(errno);
      ::unlink(temporary.c_str());
      return false;
    }
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    error = "cannot rename " + temporary + " to " + path + ": " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace tp
