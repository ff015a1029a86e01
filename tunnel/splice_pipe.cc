#include "tunnel/splice_pipe.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

#include "sync/mutex.h"

namespace tp::tunnel {

SplicePipe SplicePipe::Make(size_t capacity) {
  // splice(2) into a socket whose peer is gone raises SIGPIPE, and cannot be told not to.
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { std::signal(SIGPIPE, SIG_IGN); });
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return {};
  SplicePipe pipe{UniqueFd(fds[0]), UniqueFd(fds[1])};
  ::fcntl(pipe.write_end.Get(), F_SETPIPE_SZ, static_cast<int>(capacity));
  return pipe;
}

ssize_t SpliceSome(int from, int to, size_t count, bool more) {
  unsigned flags = SPLICE_F_MOVE | SPLICE_F_NONBLOCK;
  if (more) flags |= SPLICE_F_MORE;
  while (true) {
    const ssize_t moved = ::splice(from, nullptr, to, nullptr, count, flags);
    if (moved >= 0 || errno != EINTR) return moved;
  }
}

bool ReadPipeExactly(int pipe, std::span<uint8_t> into) {
  while (!into.empty()) {
    const ssize_t got = ::read(pipe, into.data(), into.size());
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    into = into.subspan(static_cast<size_t>(got));
  }
  return true;
}

}  // namespace tp::tunnel
