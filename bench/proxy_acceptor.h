// The accept side of delay-proxy: one ProxyConnection per accepted client.
#pragma once

#include <atomic>
#include <list>
#include <memory>
#include <thread>

#include "bench/proxy_connection.h"
#include "net/tcp_socket.h"

namespace tp::bench {

// Accepts on `listener` in its own thread; for each client dials `target` and relays through a
// ProxyConnection with `delay` each way. A client whose target cannot be reached is closed.
// Connections that have ended are released (sockets closed) at the next accept.
// Stop() (or the destructor) ends the accept loop and aborts every live connection.
class ProxyAcceptor {
 public:
  ProxyAcceptor(TcpListener listener, HostPort target, Clock::duration delay);
  ~ProxyAcceptor();
  ProxyAcceptor(const ProxyAcceptor&) = delete;
  ProxyAcceptor& operator=(const ProxyAcceptor&) = delete;

  void Stop();

 private:
  void AcceptLoop();
  void Relay(UniqueFd client);
  void ForgetFinished();

  TcpListener listener_;
  const HostPort target_;
  const Clock::duration delay_;
  std::atomic<bool> stopping_{false};
  std::list<std::unique_ptr<ProxyConnection>> connections_;  // touched by the accept thread only
  std::thread accept_thread_;
};

}  // namespace tp::bench
