// ResolveTcp: a host name to TCP addresses, with a deadline. getaddrinfo() has none: a name server
// that never answers costs timeout x attempts x servers (15 s and more), a broken NSS module
// forever. A numeric address (and "", the wildcard) is answered at once on the caller's thread;
// a name is looked up on a detached thread of its own while the caller waits until the deadline
// at most. A lookup that outlives its caller's deadline runs on until the resolver gives up, so
// the number of lookups still running is capped (kMaxResolverThreads unless a ResolverThreads of
// its own is given): past the cap a name is refused at once instead of adding a thread.
// Depends on libc and libstdc++ only (sftp-export, which uses it, runs in a FROM-scratch image).
// Thread-safe.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/socket_address.h"

namespace tp {

struct Resolution {
  std::vector<SocketAddress> addresses;  // in the resolver's order; empty on failure
  // "" on success, else "cannot resolve HOST: REASON"; REASON is "no answer within N ms" when the
  // deadline passed first, "too many lookups are still waiting for the resolver (N)" past the cap.
  std::string error;

  bool ok() const { return error.empty(); }
};

inline constexpr size_t kMaxResolverThreads = 8;

// How many lookups may run at once, counting those whose callers have stopped waiting. Copies
// share one count. A lookup's thread keeps the count alive, so a ResolverThreads may be destroyed
// while its lookups still run.
class ResolverThreads {
 public:
  explicit ResolverThreads(size_t limit);

  // Takes one place; false when `limit` lookups are running. Give it back with Release().
  bool TryAcquire();
  void Release();

  size_t limit() const;

 private:
  struct Count;
  std::shared_ptr<Count> count_;
};

// The process's one count (kMaxResolverThreads): threads are a process-wide resource, so every
// caller that does not bring its own shares it.
ResolverThreads& DefaultResolverThreads();

// The TCP addresses of `host` (a name, a numeric IPv4 or IPv6 address without brackets, or "" for
// every local address, to bind) and `port`. Numeric addresses never wait, whatever the deadline.
Resolution ResolveTcp(const std::string& host, uint16_t port,
                      std::chrono::steady_clock::time_point deadline,
                      ResolverThreads& threads = DefaultResolverThreads());

}  // namespace tp
