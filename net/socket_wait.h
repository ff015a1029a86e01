// Waiting on a socket with a deadline, and sending all of a buffer before one: for servers and
// clients whose peers may stall (net/http_get.h, common/plugin_server.h). A `stop_fd` (an eventfd
// or pipe that becomes readable when its owner stops) ends a wait early. libc only.
#pragma once

#include <chrono>
#include <string_view>

namespace tp {

enum class SocketWait { kReady, kTimeout, kStopped };

// Waits until `fd` has one of `events` (POLLIN, POLLOUT), `deadline` passes, or `stop_fd` (when
// >= 0) is readable. A poll error counts as stopped.
SocketWait WaitForSocket(int fd, short events, std::chrono::steady_clock::time_point deadline,
                         int stop_fd = -1);

// Sends all of `bytes` on `fd` (never blocking in send) before `deadline`; false when the peer
// fails, the deadline passes or `stop_fd` becomes readable.
bool SendAllBefore(int fd, std::string_view bytes, std::chrono::steady_clock::time_point deadline,
                   int stop_fd = -1);

}  // namespace tp
