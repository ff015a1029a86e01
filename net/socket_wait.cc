#include "net/socket_wait.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include "net/tcp_socket.h"

namespace tp {

SocketWait WaitForSocket(int fd, short events, std::chrono::steady_clock::time_point deadline,
                         int stop_fd) {
  while (true) {
    pollfd waiters[2] = {{fd, events, 0}, {stop_fd, POLLIN, 0}};
    const int ready = ::poll(waiters, stop_fd >= 0 ? 2 : 1, MillisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (stop_fd >= 0 && waiters[1].revents != 0)) return SocketWait::kStopped;
    if (ready == 0) return SocketWait::kTimeout;
    return SocketWait::kReady;
  }
}

bool SendAllBefore(int fd, std::string_view bytes, std::chrono::steady_clock::time_point deadline,
                   int stop_fd) {
  for (size_t sent = 0; sent < bytes.size();) {
    if (WaitForSocket(fd, POLLOUT, deadline, stop_fd) != SocketWait::kReady) return false;
    const ssize_t n =
        ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace tp
