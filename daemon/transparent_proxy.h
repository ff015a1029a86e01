// TransparentProxy is where captured traffic (TrafficCapture) lands: a TCP listener and a UDP
// socket with IP_TRANSPARENT on one port, which carry what they receive through the current
// tunnel to the address the client meant.
//
// TCP: each accepted connection's original destination (getsockname, or SO_ORIGINAL_DST for one
// the capture redirected) is opened through the tunnel (OpenTcp) and relayed both ways
// (RelayCapturedTcp). A second TCP listener on [::]:port takes IPv6 (when the host has IPv6). When
// there is no tunnel or the open fails, the client's connection is reset at once and the reason
// logged. At most max_tcp_connections are relayed at a time (two threads each); more are reset.
// UDP: each datagram's original destination comes from IP_RECVORIGDSTADDR; datagrams go through
// the tunnel on the flow of (client, destination) (UdpFlowTable); replies must be handed to
// DeliverUdpReply, which sends them to the client from the original destination.
//
// Start() returns once both sockets are bound; Stop() (or the destructor) returns once every
// thread has ended: within a quarter of a second, or the open_timeout of a connection still
// waiting for the tunnel's answer. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>
#include <thread>

#include "daemon/stop_event.h"
#include "daemon/udp_flow_table.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {

struct TransparentProxyOptions {
  uint16_t port = 15001;  // 0: the kernel picks one (see Port()); TCP and UDP share it
  std::chrono::milliseconds open_timeout{4000};
  size_t max_tcp_connections = 512;
  UdpFlowTableOptions udp;
};

struct TransparentProxyCounters {
  uint64_t tcp_accepted = 0;
  uint64_t tcp_refused = 0;    // reset at once: no tunnel, open failed, or too many connections
  uint64_t udp_datagrams = 0;  // sent into the tunnel
  uint64_t udp_dropped = 0;    // no tunnel, no flow, or the tunnel's queue stayed full
  uint64_t udp_replies = 0;    // delivered to clients
  size_t udp_flows = 0;        // alive now
};

class TransparentProxy {
 public:
  // The live tunnel, or nullptr when there is none; asked for each connection and datagram.
  using TunnelSource = std::function<std::shared_ptr<tunnel::TunnelConnection>()>;

  // Binds both sockets on 0.0.0.0:port in the calling thread's network namespace and starts
  // the threads. nullptr with `error` set on failure (IP_TRANSPARENT needs NET_ADMIN).
  static std::unique_ptr<TransparentProxy> Start(const TransparentProxyOptions& options,
                                                 TunnelSource tunnel, std::string& error);
  ~TransparentProxy();
  TransparentProxy(const TransparentProxy&) = delete;
  TransparentProxy& operator=(const TransparentProxy&) = delete;

  uint16_t Port() const { return port_; }
  // Ends every relay and joins every thread. Idempotent.
  void Stop();
  // Hands a UDP reply that came through the tunnel on `flow_id` to the flow's client. Any
  // thread (the tunnel's reader); never blocks. Replies of unknown flows are dropped.
  void DeliverUdpReply(uint32_t flow_id, const tunnel::UdpReply& reply);
  TransparentProxyCounters Counters() const;

 private:
  struct Connection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  TransparentProxy(const TransparentProxyOptions& options, TunnelSource tunnel,
                   UniqueFd tcp_listener, UniqueFd tcp6_listener, UniqueFd udp_socket,
                   UniqueFd udp6_socket, uint16_t port);
  void AcceptLoop();
  // Joins the connection threads that ended; how many still run.
  size_t ReapConnections();
  void ServeConnection(UniqueFd client, bool ipv6);  // ipv6: accepted on tcp6_listener_
  void ReceiveLoop();
  // Reads what waits on `socket` (a burst at most) and forwards it.
  void ForwardWaitingDatagrams(int socket, std::vector<uint8_t>& buffer);
  void ForwardDatagram(const SocketAddress& client, const SocketAddress& destination,
                       std::span<const uint8_t> bytes);

  const TransparentProxyOptions options_;
  const TunnelSource tunnel_;
  const UniqueFd tcp_listener_;
  const UniqueFd tcp6_listener_;  // [::]:port, IPv6 only; invalid when this host has no IPv6
  const UniqueFd udp_socket_;
  const UniqueFd udp6_socket_;  // [::]:port, IPv6 only; invalid when this host has no IPv6
  const uint16_t port_;
  StopEvent stop_;
  UdpFlowTable udp_flows_;

  std::atomic<uint64_t> tcp_accepted_{0};
  std::atomic<uint64_t> tcp_refused_{0};
  std::atomic<uint64_t> udp_datagrams_{0};
  std::atomic<uint64_t> udp_dropped_{0};
  std::atomic<uint64_t> udp_replies_{0};

  Mutex connections_mutex_;
  std::list<Connection> connections_ GUARDED_BY(connections_mutex_);

  std::thread acceptor_;
  std::thread receiver_;
};

}  // namespace tp::daemon
