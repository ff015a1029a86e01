#include "net/resolve.h"

#include <netdb.h>

#include <atomic>
#include <cstring>
#include <future>
#include <system_error>
#include <thread>

namespace tp {
namespace {

using Clock = std::chrono::steady_clock;

// What getaddrinfo answers for `host` ("" for the wildcard) with `flags`; `status` gets its code.
Resolution LookUp(const std::string& host, const std::string& service, int flags, int& status) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV | flags;
  addrinfo* found = nullptr;
  status = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &found);
  Resolution resolution;
  if (status != 0) {
    resolution.error = "cannot resolve " + host + ": " + ::gai_strerror(status);
    return resolution;
  }
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    if (address->ai_addrlen > sizeof(sockaddr_storage)) continue;
    SocketAddress& copy = resolution.addresses.emplace_back();
    std::memcpy(&copy.storage, address->ai_addr, address->ai_addrlen);
    copy.length = address->ai_addrlen;
  }
  ::freeaddrinfo(found);
  return resolution;
}

Resolution Refused(const std::string& host, const std::string& reason) {
  return {{}, "cannot resolve " + host + ": " + reason};
}

// Looks `host` up on a detached thread that holds a place of `threads` while it runs; waits for
// the answer until `deadline`.
Resolution LookUpOnAThread(const std::string& host, const std::string& service,
                           Clock::time_point deadline, ResolverThreads& threads) {
  const auto waited = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
  if (!threads.TryAcquire()) {
    return Refused(host, "too many lookups are still waiting for the resolver (" +
                             std::to_string(threads.limit()) + ")");
  }
  std::promise<Resolution> answer;
  std::future<Resolution> future = answer.get_future();
  try {
    std::thread([answer = std::move(answer), host, service, threads]() mutable {
      int status = 0;
      answer.set_value(LookUp(host, service, 0, status));
      threads.Release();
    }).detach();
  } catch (const std::system_error&) {
    threads.Release();
    return Refused(host, "no thread for the lookup");
  }
  if (future.wait_until(deadline) != std::future_status::ready) {
    return Refused(host, "no answer within " + std::to_string(waited > 0 ? waited : 0) + " ms");
  }
  return future.get();
}

}  // namespace

struct ResolverThreads::Count {
  explicit Count(size_t limit) : limit(limit) {}
  const size_t limit;
  std::atomic<size_t> running{0};
};

ResolverThreads::ResolverThreads(size_t limit) : count_(std::make_shared<Count>(limit)) {}

bool ResolverThreads::TryAcquire() {
  size_t running = count_->running.load();
  do {
    if (running >= count_->limit) return false;
  } while (!count_->running.compare_exchange_weak(running, running + 1));
  return true;
}

void ResolverThreads::Release() { count_->running.fetch_sub(1); }

size_t ResolverThreads::limit() const { return count_->limit; }

ResolverThreads& DefaultResolverThreads() {
  // Never destroyed: detached lookups may still hold it while the process exits.
  static ResolverThreads* const threads = new ResolverThreads(kMaxResolverThreads);
  return *threads;
}

Resolution ResolveTcp(const std::string& host, uint16_t port, Clock::time_point deadline,
                      ResolverThreads& threads) {
  const std::string service = std::to_string(port);
  int status = 0;
  Resolution numeric = LookUp(host, service, host.empty() ? AI_PASSIVE : AI_NUMERICHOST, status);
  if (status != EAI_NONAME || host.empty()) return numeric;
  return LookUpOnAThread(host, service, deadline, threads);
}

}  // namespace tp
