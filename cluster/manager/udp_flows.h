// UdpFlows carries the UDP datagrams of one tunnel: one UDP socket per flow id, created on the
// flow's first datagram, that sends each datagram to its destination and hands every datagram
// it receives to the reply sink, until the flow has been idle for `idle_timeout`.
// Send() is called from one thread (the tunnel's reader); the sink runs on the flows' threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "net/unique_fd.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_frame.h"

namespace tp::manager {

class UdpFlows {
 public:
  using ReplySink = std::function<void(uint32_t flow_id, tunnel::UdpReply reply)>;

  UdpFlows(ReplySink sink, std::chrono::milliseconds idle_timeout);
  ~UdpFlows();  // StopAll()
  UdpFlows(const UdpFlows&) = delete;
  UdpFlows& operator=(const UdpFlows&) = delete;

  // Sends the datagram from its flow's socket. Never blocks. "" or why it was dropped.
  std::string Send(uint32_t flow_id, const tunnel::UdpDatagram& datagram);
  // Ends every flow and joins its thread (within one poll slice).
  void StopAll();
  size_t ActiveFlowCount() const;

 private:
  struct Flow {
    UniqueFd socket;
    int family = 0;
    std::atomic<std::chrono::steady_clock::rep> last_active{0};
    std::atomic<bool> ended{false};
    std::thread receiver;
  };
  void Receive(Flow& flow, uint32_t flow_id);
  Flow* FlowFor(uint32_t flow_id, int family, std::string& error);

  const ReplySink sink_;
  const std::chrono::milliseconds idle_timeout_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mutex_;
  std::map<uint32_t, std::unique_ptr<Flow>> flows_ GUARDED_BY(mutex_);
};

}  // namespace tp::manager
