#include "cluster/manager/udp_flows.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "net/socket_address.h"
#include "sync/mutex.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kPollSlice{250};
constexpr size_t kMaxDatagramBytes = 65535;

}  // namespace

UdpFlows::UdpFlows(ReplySink sink, std::chrono::milliseconds idle_timeout)
    : sink_(std::move(sink)), idle_timeout_(idle_timeout) {}

UdpFlows::~UdpFlows() { StopAll(); }

void UdpFlows::StopAll() {
  stopping_.store(true);
  std::map<uint32_t, std::unique_ptr<Flow>> flows;
  {
    MutexLock lock(mutex_);
    flows.swap(flows_);
  }
  for (auto& [id, flow] : flows) flow->receiver.join();
}

size_t UdpFlows::ActiveFlowCount() const {
  MutexLock lock(mutex_);
  size_t count = 0;
  for (const auto& [id, flow] : flows_) count += flow->ended.load() ? 0 : 1;
  return count;
}

UdpFlows::Flow* UdpFlows::FlowFor(uint32_t flow_id, int family, std::string& error) {
  std::unique_ptr<Flow> expired;
  MutexLock lock(mutex_);
  if (stopping_.load()) {
    error = "stopping";
    return nullptr;
  }
  auto found = flows_.find(flow_id);
  if (found != flows_.end() && !found->second->ended.load() && found->second->family == family) {
    return found->second.get();
  }
  if (found != flows_.end()) {
    expired = std::move(found->second);
    flows_.erase(found);
    expired->ended.store(true);
    expired->receiver.join();  // it ends within one poll slice
  }
  auto flow = std::make_unique<Flow>();
  flow->socket.Reset(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!flow->socket.Valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return nullptr;
  }
  flow->family = family;
  flow->last_active.store(Clock::now().time_since_epoch().count());
  Flow* raw = flow.get();
  flow->receiver = std::thread([this, raw, flow_id] { Receive(*raw, flow_id); });
  flows_.emplace(flow_id, std::move(flow));
  return raw;
}

std::string UdpFlows::Send(uint32_t flow_id, const tunnel::UdpDatagram& datagram) {
  const auto destination = ParseSocketAddress(datagram.address, datagram.port);
  if (!destination || datagram.port == 0) {
    return "bad destination " + datagram.address + ":" + std::to_string(datagram.port);
  }
  std::string error;
  Flow* flow = FlowFor(flow_id, destination->family(), error);
  if (flow == nullptr) return error;
  // Only this thread replaces or removes flows (besides StopAll), so `flow` stays valid here.
  flow->last_active.store(Clock::now().time_since_epoch().count());
  if (::sendto(flow->socket.Get(), datagram.bytes.data(), datagram.bytes.size(), MSG_DONTWAIT,
               destination->get(), destination->length) < 0) {
    return std::string("sendto: ") + std::strerror(errno);
  }
  return "";
}

void UdpFlows::Receive(Flow& flow, uint32_t flow_id) {
  std::vector<uint8_t> buffer(kMaxDatagramBytes);
  while (!stopping_.load() && !flow.ended.load()) {
    const auto idle_since = Clock::time_point(Clock::duration(flow.last_active.load()));
    if (Clock::now() - idle_since > idle_timeout_) break;
    pollfd waiter{flow.socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, static_cast<int>(kPollSlice.count())) <= 0) continue;
    sockaddr_storage source{};
    socklen_t length = sizeof source;
    const ssize_t got = ::recvfrom(flow.socket.Get(), buffer.data(), buffer.size(), MSG_DONTWAIT,
                                   reinterpret_cast<sockaddr*>(&source), &length);
    if (got < 0) continue;  // ICMP errors (ECONNREFUSED) and spurious wake-ups
    flow.last_active.store(Clock::now().time_since_epoch().count());
    sink_(flow_id, tunnel::UdpReply{AddressText(source), AddressPort(source),
                                    std::vector<uint8_t>(buffer.begin(), buffer.begin() + got)});
  }
  flow.ended.store(true);
}

}  // namespace tp::manager
