// LoopbackUdpResponder is a test peer: a UDP server on 127.0.0.1:<free port> that answers every
// datagram with what `answer` returns for it, from its own thread, until destroyed.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <span>
#include <thread>
#include <vector>

#include "net/unique_fd.h"

namespace tp::test_support {

class LoopbackUdpResponder {
 public:
  using Answer = std::function<std::vector<uint8_t>(std::span<const uint8_t> datagram)>;

  // port() is 0 when the socket could not be bound.
  explicit LoopbackUdpResponder(Answer answer)
      : answer_(std::move(answer)), socket_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(socket_.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(socket_.Get(), reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      return;
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackUdpResponder() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  LoopbackUdpResponder(const LoopbackUdpResponder&) = delete;
  LoopbackUdpResponder& operator=(const LoopbackUdpResponder&) = delete;

  uint16_t port() const { return port_; }
  int datagrams() const { return datagrams_.load(); }  // received so far

 private:
  void Serve() {
    std::vector<uint8_t> buffer(65536);
    while (!stopping_) {
      pollfd waiter{socket_.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 50) <= 0) continue;
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      const ssize_t got = ::recvfrom(socket_.Get(), buffer.data(), buffer.size(), 0,
                                     reinterpret_cast<sockaddr*>(&peer), &length);
      if (got < 0) continue;
      ++datagrams_;
      const std::vector<uint8_t> reply = answer_(std::span(buffer).first(static_cast<size_t>(got)));
      ::sendto(socket_.Get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer),
               length);
    }
  }

  const Answer answer_;
  UniqueFd socket_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> datagrams_{0};
  std::thread thread_;
};

}  // namespace tp::test_support
