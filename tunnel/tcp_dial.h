// Outbound TCP with a deadline, reporting the errno of the failure so it can travel in an
// OpenFailed frame. (cluster/sftp-export/tcp_socket.h's ConnectTcp bounds only the name's
// resolution and reports a sentence only; a candidate to merge into common/ later.)
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/unique_fd.h"

namespace tp::tunnel {

struct DialResult {
  UniqueFd socket;  // connected, blocking, close-on-exec, TCP_NODELAY; invalid on failure
  int error = 0;    // errno-like: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH; EADDRNOTAVAIL when
                    // the name does not resolve (also when the resolver does not answer in time)
  std::string message;
};

// Resolves `host` (name or numeric address) and connects to the first address that answers,
// giving up at `deadline`, which bounds the name's resolution too (common/resolve.h).
DialResult DialTcp(const std::string& host, uint16_t port,
                   std::chrono::steady_clock::time_point deadline);

// Milliseconds left until `deadline`, at least 0, for poll().
int MillisecondsUntil(std::chrono::steady_clock::time_point deadline);

}  // namespace tp::tunnel
