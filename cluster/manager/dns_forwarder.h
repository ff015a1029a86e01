// DnsForwarder answers the daemon's DNS queries by forwarding the raw DNS message, unchanged,
// to the manager's own resolvers (those of /etc/resolv.conf by default). The manager runs in
// the cluster, so its resolvers know the cluster's names; forwarding keeps every record type
// and flag intact, which answering A records from getaddrinfo would not. Thread-safe (each
// query uses its own socket).
#pragma once

#include <chrono>
#include <span>
#include <string>
#include <vector>

#include "net/socket_address.h"
#include "tunnel/tunnel_frame.h"

namespace tp::manager {

class DnsForwarder {
 public:
  DnsForwarder(std::vector<SocketAddress> servers, std::chrono::milliseconds timeout_per_server);

  // The `nameserver` lines of a resolv.conf file (port 53); empty when none or unreadable.
  static std::vector<SocketAddress> ServersFromResolvConf(const std::string& path);

  // Asks each server in turn until one answers with a reply to this query (same id).
  // The answer's error_code is 0, EINVAL (not a DNS message), ETIMEDOUT or EHOSTUNREACH.
  tunnel::DnsAnswer Forward(std::span<const uint8_t> query) const;

 private:
  const std::vector<SocketAddress> servers_;
  const std::chrono::milliseconds timeout_per_server_;
};

}  // namespace tp::manager
