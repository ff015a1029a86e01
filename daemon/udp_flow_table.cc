#include "daemon/udp_flow_table.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "sync/mutex.h"

namespace tp::daemon {
namespace {

constexpr uint16_t kDnsPort = 53;

std::string Errno(const char* what) { return std::string(what) + ": " + std::strerror(errno); }

}  // namespace

UniqueFd TransparentUdpSocket(const SocketAddress& local, std::string& error) {
  const bool ipv6 = local.family() == AF_INET6;
  UniqueFd socket(::socket(local.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) {
    error = Errno("socket");
    return {};
  }
  const int yes = 1;
  if (::setsockopt(socket.Get(), ipv6 ? SOL_IPV6 : SOL_IP, ipv6 ? IPV6_TRANSPARENT : IP_TRANSPARENT,
                   &yes, sizeof yes) != 0) {
    error = Errno("IP_TRANSPARENT (needs NET_ADMIN)");
    return {};
  }
  if (::setsockopt(socket.Get(), SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes) != 0) {
    error = Errno("SO_REUSEADDR");
    return {};
  }
  if (::bind(socket.Get(), local.get(), local.length) != 0) {
    error = Errno(("bind " + EndpointText(local.storage)).c_str());
    return {};
  }
  return socket;
}

std::optional<uint32_t> UdpFlowTable::FlowFor(const SocketAddress& client,
                                              const SocketAddress& destination,
                                              std::string& error) {
  const FlowKey key{EndOf(client), EndOf(destination)};
  MutexLock lock(mutex_);
  if (const auto found = ids_.find(key); found != ids_.end()) {
    flows_.at(found->second).last_active = Clock::now();
    return found->second;
  }
  UniqueFd reply_socket = TransparentUdpSocket(destination, error);
  if (!reply_socket.Valid()) return std::nullopt;
  if (flows_.size() >= options_.max_flows) EvictLeastRecentlyActive();
  do {
    ++last_id_;
  } while (last_id_ == 0 || flows_.contains(last_id_));
  const auto idle_timeout = AddressPort(destination.storage) == kDnsPort ? options_.dns_idle_timeout
                                                                         : options_.idle_timeout;
  flows_.emplace(last_id_, Flow{key, client, std::move(reply_socket), Clock::now(), idle_timeout});
  ids_.emplace(key, last_id_);
  return last_id_;
}

UdpFlowTable::FlowEnd UdpFlowTable::EndOf(const SocketAddress& address) {
  FlowEnd end{.family = address.family(), .port = AddressPort(address.storage)};
  if (address.family() == AF_INET6) {
    const auto* ipv6 = reinterpret_cast<const sockaddr_in6*>(address.get());
    std::memcpy(end.address.data(), &ipv6->sin6_addr, sizeof ipv6->sin6_addr);
  } else if (address.family() == AF_INET) {
    const auto* ipv4 = reinterpret_cast<const sockaddr_in*>(address.get());
    std::memcpy(end.address.data(), &ipv4->sin_addr, sizeof ipv4->sin_addr);
  }
  return end;
}

bool UdpFlowTable::SendReply(uint32_t flow_id, std::span<const uint8_t> bytes) {
  MutexLock lock(mutex_);
  const auto found = flows_.find(flow_id);
  if (found == flows_.end()) return false;
  Flow& flow = found->second;
  flow.last_active = Clock::now();
  return ::sendto(flow.reply_socket.Get(), bytes.data(), bytes.size(), MSG_DONTWAIT,
                  flow.client.get(), flow.client.length) >= 0;
}

size_t UdpFlowTable::ExpireIdle() {
  const Clock::time_point now = Clock::now();
  MutexLock lock(mutex_);
  std::vector<uint32_t> idle;
  for (const auto& [id, flow] : flows_) {
    if (now - flow.last_active > flow.idle_timeout) idle.push_back(id);
  }
  for (const uint32_t id : idle) Erase(id);
  return idle.size();
}

size_t UdpFlowTable::Size() const {
  MutexLock lock(mutex_);
  return flows_.size();
}

void UdpFlowTable::EvictLeastRecentlyActive() {
  const auto oldest = std::min_element(
      flows_.begin(), flows_.end(),
      [](const auto& a, const auto& b) { return a.second.last_active < b.second.last_active; });
  if (oldest != flows_.end()) Erase(oldest->first);
}

void UdpFlowTable::Erase(uint32_t flow_id) {
  const auto found = flows_.find(flow_id);
  if (found == flows_.end()) return;
  ids_.erase(found->second.key);
  flows_.erase(found);
}

}  // namespace tp::daemon
