// A pipe for moving stream bytes between sockets with splice(2): the kernel passes page
// references from one socket to the other, with no copy through user space. Used by the relays
// (socket -> pipe -> tunnel, tunnel -> pipe -> socket) and by the tunnel's receive path.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include "net/unique_fd.h"

namespace tp::tunnel {

// Bytes a relay's pipe is asked to hold (the kernel may round it; a pipe holds page-sized
// pieces or smaller ones, one per slot).
inline constexpr size_t kSplicePipeBytes = 1024 * 1024;

// Both ends of one non-blocking pipe. Move-only; closes both ends when destroyed.
struct SplicePipe {
  UniqueFd read_end;
  UniqueFd write_end;

  bool Valid() const { return read_end.Valid() && write_end.Valid(); }
  // A non-blocking, close-on-exec pipe asked to hold `capacity` bytes (kept at the system's
  // default when that is refused). Invalid when no pipe could be made. The first call makes the
  // process ignore SIGPIPE: a splice(2) into a socket whose peer is gone raises it otherwise
  // (splice has no MSG_NOSIGNAL), and these processes handle EPIPE instead.
  static SplicePipe Make(size_t capacity = kSplicePipeBytes);
};

// splice(2) of up to `count` bytes from `from` to `to`, one of them a pipe, never blocking on
// either: the bytes moved, or -1 with errno (EAGAIN: nothing to take or no room).
ssize_t SpliceSome(int from, int to, size_t count, bool more = false);

// Reads exactly `into.size()` bytes that are known to wait in the pipe `pipe` (its read end).
// False when the pipe held fewer.
bool ReadPipeExactly(int pipe, std::span<uint8_t> into);

}  // namespace tp::tunnel
