// TCP helpers shared by sftp-export, the traffic-manager, the traffic-agent, the daemon's SFTP
// forwards and the bench tools: listening and connecting from a "HOST:PORT" text, and the atomic
// port-file writer. Depends on libc and common/resolve only (sftp-export is meant for a
// FROM-scratch image).
#pragma once

#include <string>

#include "common/unique_fd.h"

namespace tp {

// A bound, listening, non-blocking, close-on-exec TCP socket.
struct TcpListener {
  UniqueFd socket;
  std::string bound_host;  // numeric, IPv6 in brackets: "127.0.0.1", "[::1]"
  int bound_port = 0;      // the real port, also when 0 was asked for

  std::string BoundAddress() const { return bound_host + ":" + std::to_string(bound_port); }
};

// Binds and listens on `host_port` ("127.0.0.1:0", "[::1]:2222", ":2222" for all addresses).
// Returns a listener whose socket is invalid on failure, with `error` set.
TcpListener ListenTcp(const std::string& host_port, std::string& error);

// Connects a blocking, close-on-exec TCP socket to `host_port` (tries every resolved address).
// A host name that does not resolve within 10 s is a failure (common/resolve.h). Returns an
// invalid fd on failure, with `error` set.
UniqueFd ConnectTcp(const std::string& host_port, std::string& error);

// Sets TCP_NODELAY: requests and replies go out at once instead of waiting for more data.
void EnableNoDelay(int socket);

// Writes `port` and a newline to `path` through a temporary file in the same folder and a
// rename, so a reader sees either no file or the whole number. Returns false with `error` set.
bool WritePortFile(const std::string& path, int port, std::string& error);

}  // namespace tp
