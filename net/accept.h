// AcceptConnection: accept4() for accept loops that must not spin. When the process (or the
// system) has run out of descriptors or memory, the listener stays readable while every accept
// fails: then it waits `backoff` before returning, so that a loop around it polls at that pace
// instead of burning a core, and serves again as soon as descriptors are free.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "net/unique_fd.h"

namespace tp {

inline constexpr std::chrono::milliseconds kAcceptBackoff{100};

// The accepted connection (close-on-exec), or an invalid UniqueFd when there was none to take.
inline UniqueFd AcceptConnection(int listener, std::chrono::milliseconds backoff = kAcceptBackoff) {
  UniqueFd connection(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
  if (connection.Valid()) return connection;
  if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
    std::this_thread::sleep_for(backoff);
  }
  return connection;
}

}  // namespace tp
