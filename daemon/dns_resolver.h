// Where the daemon's DNS server sends the queries it cannot answer itself. A DnsResolver takes a
// raw DNS query and returns the raw reply, or nothing when no reply came within the timeout (it
// never waits longer). Implementations are thread-safe: the server calls them from several
// threads at once.
//
// - TunnelDnsResolver: the cluster's resolvers, through the traffic-manager (DnsQuery/DnsAnswer
//   frames on the tunnel).
// - UdpDnsResolver: ordinary DNS servers over UDP, e.g. the nameservers of /etc/resolv.conf.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "net/socket_address.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {

class DnsResolver {
 public:
  virtual ~DnsResolver() = default;
  // The reply to `query`, or nullopt when there was none within `timeout`.
  virtual std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                                      std::chrono::milliseconds timeout) = 0;
};

// Asks the cluster through a live tunnel. The connection must outlive the resolver. A dead
// tunnel answers nothing (nullopt at once).
class TunnelDnsResolver : public DnsResolver {
 public:
  explicit TunnelDnsResolver(tunnel::TunnelConnection& connection) : connection_(connection) {}
  std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                              std::chrono::milliseconds timeout) override;

 private:
  tunnel::TunnelConnection& connection_;
};

// The `nameserver` lines of a resolv.conf file, in order (or, in a file the daemon rewrote, the
// upstream nameservers it kept: see cluster_resolv_conf.h); empty when none or unreadable. As an
// extension (for tests), a nameserver may carry a port (net/socket_address.h ParseEndpoint).
std::vector<SocketAddress> NameserversFromResolvConf(const std::string& path);

// Sends each query over UDP to the servers in order, splitting the timeout between the servers
// not yet tried, until one answers with a reply of the same id. Each query uses its own
// connected socket, so only the server it was sent to can answer it.
class UdpDnsResolver : public DnsResolver {
 public:
  explicit UdpDnsResolver(std::vector<SocketAddress> servers) : servers_(std::move(servers)) {}
  std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                              std::chrono::milliseconds timeout) override;
  size_t ServerCount() const { return servers_.size(); }

 private:
  const std::vector<SocketAddress> servers_;
};

}  // namespace tp::daemon
