// DnsServer is the daemon's DNS server on UDP and TCP (same address and port): cluster names
// through the cluster resolver (the traffic-manager), search domains applied to short names, every
// other name through the nameservers of a resolv.conf file; the routing rule is DnsAnswerer's
// (dns_answerer.h).
//
// One receiver thread reads datagrams and queues them; a fixed pool of workers answers them,
// so slow queries do not hold up others. Every query has a deadline counted from its arrival:
// past it the client gets SERVFAIL. When the queue is full the datagram is dropped (the client
// retries, as for any lost datagram). Malformed datagrams are dropped or get FORMERR; the
// server keeps serving. TCP (for replies too large for UDP, and clients that prefer it): one
// thread per connection, at most max_tcp_connections (more are closed at once); each query on
// it has the same deadline, and a connection idle for tcp_idle_timeout is closed. Start() returns
// once the socket is bound; Stop() (or the destructor) returns once every thread has ended, which
// takes at most one query timeout. Thread-safe.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <list>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "daemon/dns_answerer.h"
#include "daemon/dns_resolver.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct DnsServerOptions {
  std::string listen_address = "127.0.0.1";  // numeric IPv4 or IPv6
  uint16_t listen_port = 0;                  // 0: the kernel picks one (see Port())
  std::vector<std::string> search_domains;   // from the Welcome: "default.svc.cluster.local"
  std::string cluster_domain = "cluster.local";
  int ndots = 5;
  std::string resolv_conf = "/etc/resolv.conf";  // where the upstream nameservers are
  std::chrono::milliseconds query_timeout{2000};
  int worker_count = 8;
  size_t max_queued_queries = 256;
  int max_tcp_connections = 16;
  std::chrono::milliseconds tcp_idle_timeout{10000};
};

struct DnsServerCounters {
  uint64_t received = 0;
  uint64_t answered = 0;
  uint64_t dropped = 0;          // malformed, not a query, or the queue was full
  uint64_t deadline_missed = 0;  // answered SERVFAIL because the deadline passed
  uint64_t tcp_connections = 0;  // accepted so far
};

class DnsServer {
 public:
  // Binds the UDP and TCP sockets and starts the threads. `cluster` must outlive the server.
  // nullptr with `error` set when the options are invalid or the address cannot be bound.
  static std::unique_ptr<DnsServer> Start(const DnsServerOptions& options, DnsResolver& cluster,
                                          std::string& error);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  uint16_t Port() const { return port_; }
  // Stops receiving and joins every thread. Idempotent.
  void Stop();
  DnsServerCounters Counters() const;

 private:
  struct PendingQuery {
    std::vector<uint8_t> bytes;
    sockaddr_storage peer{};
    socklen_t peer_length = 0;
    std::chrono::steady_clock::time_point deadline;
  };

  struct TcpConnection {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  DnsServer(const DnsServerOptions& options, DnsRules rules, DnsResolver& cluster,
            std::unique_ptr<UdpDnsResolver> upstream, UniqueFd udp_socket, UniqueFd tcp_listener,
            uint16_t port);
  void ReceiveLoop();
  void WorkLoop();
  void Enqueue(PendingQuery query);
  void Reply(const PendingQuery& query);
  void AcceptLoop();
  // Joins the connection threads that ended; returns how many still run.
  size_t ReapTcpConnections();
  void ServeTcp(int socket);
  // Reads exactly `into.size()` bytes; false on end of stream, error, deadline or Stop().
  bool ReadExactly(int socket, std::span<uint8_t> into,
                   std::chrono::steady_clock::time_point deadline) const;

  const DnsServerOptions options_;
  const std::unique_ptr<UdpDnsResolver> upstream_;
  const DnsAnswerer answerer_;
  const UniqueFd socket_;
  const UniqueFd tcp_listener_;
  const uint16_t port_;
  UniqueFd stop_event_;  // eventfd: wakes the receiver

  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> received_{0};
  std::atomic<uint64_t> answered_{0};
  std::atomic<uint64_t> dropped_{0};
  std::atomic<uint64_t> deadline_missed_{0};
  std::atomic<uint64_t> tcp_connections_accepted_{0};

  Mutex queue_mutex_;
  CondVar queue_changed_;
  std::deque<PendingQuery> queue_ GUARDED_BY(queue_mutex_);

  Mutex tcp_mutex_;
  std::list<TcpConnection> tcp_connections_ GUARDED_BY(tcp_mutex_);

  std::thread receiver_;
  std::vector<std::thread> workers_;
  std::thread tcp_acceptor_;
};

}  // namespace tp::daemon
