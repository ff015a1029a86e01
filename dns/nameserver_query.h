// AskNameserver: one DNS query over UDP to one name server, with a deadline. The one DNS client
// of the project: the daemon's upstream resolver and the traffic-manager's forwarder both use it.
// Thread-safe (each query has its own connected socket, so only the server it was sent to can
// answer it).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "net/socket_address.h"

namespace tp::dns {

// Sends `query` (a whole DNS message) to `server` and waits until `deadline` for a datagram that
// carries the query's id; stray datagrams with another id are skipped. nullopt when the query is
// shorter than a DNS header, nothing answers in time, or the server refuses (ICMP unreachable).
std::optional<std::vector<uint8_t>> AskNameserver(const SocketAddress& server,
                                                  std::span<const uint8_t> query,
                                                  std::chrono::steady_clock::time_point deadline);

}  // namespace tp::dns
