// Test peers for the capture tests, bound to any address (the cluster's, inside a test network
// namespace): a TCP echo server and a UDP echo responder, each with its own threads until
// destroyed.
#pragma once

#include <atomic>
#include <cstdint>
#include <list>
#include <string>
#include <thread>

#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp::daemon::testing {

// Echoes every byte back; on the client's FIN it sends its own (half-close both ways). A
// connection whose first bytes are "RESET" is reset (RST) instead.
class TcpEchoServer {
 public:
  // Listens on `address`:<free port>; port() is 0 on failure.
  explicit TcpEchoServer(const std::string& address);
  ~TcpEchoServer();
  TcpEchoServer(const TcpEchoServer&) = delete;
  TcpEchoServer& operator=(const TcpEchoServer&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop();
  static void Echo(int socket);

  UniqueFd listener_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  Mutex mutex_;
  std::list<UniqueFd> sockets_ GUARDED_BY(mutex_);
  std::list<std::thread> threads_ GUARDED_BY(mutex_);
  std::thread acceptor_;
};

// Answers each datagram with "echo:" + the datagram, to its sender.
class UdpEchoResponder {
 public:
  explicit UdpEchoResponder(const std::string& address);
  ~UdpEchoResponder();
  UdpEchoResponder(const UdpEchoResponder&) = delete;
  UdpEchoResponder& operator=(const UdpEchoResponder&) = delete;

  uint16_t port() const { return port_; }

 private:
  void Serve();

  UniqueFd socket_;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace tp::daemon::testing
