#include "cluster/sftp-export/tcp_socket.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstring>

#include "common/resolve.h"

namespace tp {
namespace {

constexpr int kListenBacklog = 64;
// How long a host name may take to resolve (a name server that never answers would otherwise
// hold the caller for the resolver's timeout x attempts x servers, or forever).
constexpr std::chrono::seconds kResolveTimeout{10};

struct HostAndPort {
  std::string host;  // without brackets; empty means every address
  std::string port;
};

bool SplitHostPort(const std::string& text, HostAndPort& out) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon + 1 == text.size()) return false;
  out.host = text.substr(0, colon);
  out.port = text.substr(colon + 1);
  if (out.host.size() >= 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  return true;
}

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

// Resolves "HOST:PORT" for a stream socket ("" for HOST: every local address), giving up after
// kResolveTimeout. No addresses on failure, with `error` set.
std::vector<SocketAddress> Resolve(const std::string& host_port, std::string& error) {
  HostAndPort parts;
  uint16_t port = 0;
  if (!SplitHostPort(host_port, parts) ||
      std::from_chars(parts.port.data(), parts.port.data() + parts.port.size(), port).ptr !=
          parts.port.data() + parts.port.size()) {
    error = "expected HOST:PORT, got '" + host_port + "'";
    return {};
  }
  Resolution resolution =
      ResolveTcp(parts.host, port, std::chrono::steady_clock::now() + kResolveTimeout);
  if (!resolution.ok()) {  // "cannot resolve HOST: REASON", said of the whole HOST:PORT here
    const size_t reason = std::string("cannot resolve ").size() + parts.host.size();
    error = "cannot resolve '" + host_port + "'" + resolution.error.substr(reason);
  }
  return std::move(resolution.addresses);
}

}  // namespace

TcpListener ListenTcp(const std::string& host_port, std::string& error) {
  const std::vector<SocketAddress> addresses = Resolve(host_port, error);
  if (addresses.empty()) return {};
  for (const SocketAddress& address : addresses) {
    TcpListener listener;
    listener.socket = BindAndListen(address, error);
    if (!listener.socket.Valid()) continue;
    if (!ReadBoundAddress(listener, error)) return {};
    return listener;
  }
  error = "cannot listen on " + host_port + ": " + error;
  return {};
}

UniqueFd ConnectTcp(const std::string& host_port, std::string& error) {
  const std::vector<SocketAddress> addresses = Resolve(host_port, error);
  for (const SocketAddress& address : addresses) {
    UniqueFd socket(::socket(address.family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.Valid()) {
      error = std::string("socket: ") + std::strerror(errno);
      continue;
    }
    if (::connect(socket.Get(), address.get(), address.length) == 0) return socket;
    error = "cannot connect to " + host_port + ": " + std::strerror(errno);
  }
  return {};
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
