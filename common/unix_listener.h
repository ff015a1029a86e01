// ListenUnix: a listening Unix stream socket at a path, for the servers of the Docker plugins
// (PluginServer) and of the daemon (UnixHttpServer).
#pragma once

#include <sys/types.h>

#include <string>

#include "net/unique_fd.h"

namespace tp {

// Binds `path` (replacing a stale socket file there; its folder must exist), listens, then gives
// the file `mode`. Between bind and chmod the file has the umask's mode: a socket that others
// must never reach belongs in a folder only its owner can enter. The socket is close-on-exec and
// blocking. Invalid with `error` set when the socket cannot be bound.
UniqueFd ListenUnix(const std::string& path, mode_t mode, std::string& error);

}  // namespace tp
