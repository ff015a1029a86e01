#include "daemon/capture_test_peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <vector>

#include "net/socket_address.h"
#include "sync/mutex.h"

namespace tp::daemon::testing {
namespace {

constexpr int kPollSliceMs = 50;

// A socket of `type` bound to `address`:0 (IPv4 or IPv6); invalid on failure. `port` gets the
// bound port.
UniqueFd BindAny(int type, const std::string& address, uint16_t& port) {
  std::optional<SocketAddress> bound = ParseSocketAddress(address, 0);
  if (!bound) return {};
  UniqueFd socket(::socket(bound->family(), type | SOCK_CLOEXEC, 0));
  socklen_t length = sizeof bound->storage;
  if (::bind(socket.Get(), bound->get(), bound->length) != 0 ||
      ::getsockname(socket.Get(), reinterpret_cast<sockaddr*>(&bound->storage), &length) != 0) {
    return {};
  }
  if (type == SOCK_STREAM && ::listen(socket.Get(), 64) != 0) return {};
  port = AddressPort(bound->storage);
  return socket;
}

}  // namespace

TcpEchoServer::TcpEchoServer(const std::string& address) {
  listener_ = BindAny(SOCK_STREAM, address, port_);
  if (!listener_.Valid()) {
    port_ = 0;
    return;
  }
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

TcpEchoServer::~TcpEchoServer() {
  stopping_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  MutexLock lock(mutex_);
  for (const UniqueFd& socket : sockets_) ::shutdown(socket.Get(), SHUT_RDWR);
  for (std::thread& thread : threads_) thread.join();
}

void TcpEchoServer::AcceptLoop() {
  while (!stopping_) {
    pollfd waiter{listener_.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, kPollSliceMs) <= 0) continue;
    UniqueFd socket(::accept4(listener_.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!socket.Valid()) continue;
    ++connections_;
    MutexLock lock(mutex_);
    const int raw = socket.Get();
    sockets_.push_back(std::move(socket));
    threads_.emplace_back([raw] { Echo(raw); });
  }
}

void TcpEchoServer::Echo(int socket) {
  std::vector<char> buffer(256 * 1024);
  bool first = true;
  while (true) {
    const ssize_t got = ::recv(socket, buffer.data(), buffer.size(), 0);
    if (got == 0) {
      ::shutdown(socket, SHUT_WR);
      return;
    }
    if (got < 0) return;
    if (first && std::string_view(buffer.data(), static_cast<size_t>(got)).starts_with("RESET")) {
      // Disconnecting with AF_UNSPEC sends an RST now; the fd stays the owner's to close.
      sockaddr unspecified{};
      unspecified.sa_family = AF_UNSPEC;
      ::connect(socket, &unspecified, sizeof unspecified);
      return;
    }
    first = false;
    if (::send(socket, buffer.data(), static_cast<size_t>(got), MSG_NOSIGNAL) != got) return;
  }
}

UdpEchoResponder::UdpEchoResponder(const std::string& address) {
  socket_ = BindAny(SOCK_DGRAM, address, port_);
  if (!socket_.Valid()) {
    port_ = 0;
    return;
  }
  thread_ = std::thread([this] { Serve(); });
}

UdpEchoResponder::~UdpEchoResponder() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void UdpEchoResponder::Serve() {
  std::vector<char> buffer(65536);
  while (!stopping_) {
    pollfd waiter{socket_.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, kPollSliceMs) <= 0) continue;
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const ssize_t got = ::recvfrom(socket_.Get(), buffer.data(), buffer.size(), 0,
                                   reinterpret_cast<sockaddr*>(&peer), &length);
    if (got < 0) continue;
    const std::string reply = "echo:" + std::string(buffer.data(), static_cast<size_t>(got));
    ::sendto(socket_.Get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer),
             length);
  }
}

}  // namespace tp::daemon::testing
