// UdpFlowTable keeps the captured UDP flows, one per (client, original destination): each has a
// flow id for the tunnel and a transparent socket bound to the original destination, from which
// the tunnel's replies go back to the client, so the client sees them come from the address it
// sent to. A flow ends once idle for its timeout (shorter for DNS, port 53); when the table is
// full the least recently active flow makes room. Flow ids count up (wrapping after 2^32 flows),
// so a late reply of an ended flow goes nowhere. Thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>

#include "net/socket_address.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct UdpFlowTableOptions {
  size_t max_flows = 1024;
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds dns_idle_timeout{5000};  // flows to port 53
};

class UdpFlowTable {
 public:
  explicit UdpFlowTable(UdpFlowTableOptions options) : options_(options) {}
  UdpFlowTable(const UdpFlowTable&) = delete;
  UdpFlowTable& operator=(const UdpFlowTable&) = delete;

  // The id of the flow from `client` to `destination` (both IPv4 or both IPv6), marked active
  // now. A new flow's reply socket is made in the calling thread's network namespace; nullopt
  // with `error` set when that fails.
  std::optional<uint32_t> FlowFor(const SocketAddress& client, const SocketAddress& destination,
                                  std::string& error);
  // Sends `bytes` to the flow's client from its original destination, without blocking.
  // False when the flow is gone or the kernel refused the datagram.
  bool SendReply(uint32_t flow_id, std::span<const uint8_t> bytes);
  // Ends the flows idle past their timeout; how many ended.
  size_t ExpireIdle();
  size_t Size() const;

 private:
  using Clock = std::chrono::steady_clock;
  // One end of a flow as a value: its family, address and port (a socket address's other fields,
  // IPv6 flow information and scope, do not tell flows apart).
  struct FlowEnd {
    int family = 0;
    std::array<uint8_t, 16> address{};  // IPv4 in the first 4 bytes
    uint16_t port = 0;
    auto operator<=>(const FlowEnd&) const = default;
  };
  static FlowEnd EndOf(const SocketAddress& address);
  using FlowKey = std::pair<FlowEnd, FlowEnd>;  // client, destination
  struct Flow {
    FlowKey key;
    SocketAddress client;
    UniqueFd reply_socket;
    Clock::time_point last_active;
    Clock::duration idle_timeout;
  };

  // Both need mutex_ held.
  void EvictLeastRecentlyActive() REQUIRES(mutex_);
  void Erase(uint32_t flow_id) REQUIRES(mutex_);

  const UdpFlowTableOptions options_;
  mutable Mutex mutex_;
  std::map<FlowKey, uint32_t> ids_ GUARDED_BY(mutex_);
  std::unordered_map<uint32_t, Flow> flows_ GUARDED_BY(mutex_);
  uint32_t last_id_ GUARDED_BY(mutex_) = 0;
};

// A UDP socket with IP_TRANSPARENT (IPV6_TRANSPARENT) and SO_REUSEADDR bound to `local` (which
// need not be an address of this host); invalid with `error` set on failure.
UniqueFd TransparentUdpSocket(const SocketAddress& local, std::string& error);

}  // namespace tp::daemon
