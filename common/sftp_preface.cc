#include "common/sftp_preface.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tp {

using Clock = std::chrono::steady_clock;

std::string SftpPreface(std::string_view token) {
  return std::string(kSftpPrefaceTag) + std::string(token) + "\n";
}

bool IsSftpPrefaceFor(std::string_view received, std::string_view token) {
  return SameSecret(received, SftpPreface(token));
}

std::string ExpectSftpPreface(int fd, std::string_view token, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char received[kSftpPrefaceSize];
  size_t have = 0;
  while (have < sizeof received) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "no preface within " + std::to_string(timeout.count()) + " ms";
    pollfd waiter{fd, POLLIN, 0};
    const int ready = ::poll(&waiter, 1, static_cast<int>(left));
    if (ready < 0 && errno != EINTR) return std::string("poll: ") + std::strerror(errno);
    if (ready <= 0) continue;
    const ssize_t got = ::recv(fd, received + have, sizeof received - have, MSG_DONTWAIT);
    if (got == 0) return "the connection ended before its preface";
    if (got < 0) {
      if (errno == EAGAIN || errno == EINTR) continue;
      return std::string("recv: ") + std::strerror(errno);
    }
    have += static_cast<size_t>(got);
  }
  if (!IsSftpPrefaceFor(std::string_view(received, sizeof received), token)) {
    return "a wrong token in its preface";
  }
  return "";
}

}  // namespace tp
