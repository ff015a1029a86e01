// TCP for every program: listening on and connecting to an address, with a deadline on both the
// name's resolution and the connection, and the atomic port-file writer. libc only (net/).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "net/host_port.h"
#include "net/unique_fd.h"

namespace tp {

// A bound, listening, non-blocking, close-on-exec TCP socket.
struct TcpListener {
  UniqueFd socket;
  std::string bound_host;  // numeric, IPv6 in brackets: "127.0.0.1", "[::1]"
  int bound_port = 0;      // the real port, also when 0 was asked for

  std::string BoundAddress() const { return bound_host + ":" + std::to_string(bound_port); }
};

// Binds and listens on `address` (port 0: a free one; "0.0.0.0" or "::": every address). A
// numeric address binds exactly that family; a host name must resolve within 10 s
// (net/resolve.h) and binds its first IPv4 address when it has one ("localhost": 127.0.0.1, not
// ::1 alone), else its first IPv6 one. Returns a listener whose socket is invalid on failure,
// with `error` set.
TcpListener ListenTcp(const HostPort& address, std::string& error);
// The same for a "HOST:PORT" text (net/host_port.h); a malformed one is an error.
TcpListener ListenTcp(const std::string& host_port, std::string& error);

struct DialResult {
  UniqueFd socket;  // connected, blocking, close-on-exec, TCP_NODELAY; invalid on failure
  int error = 0;    // errno-like: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH; EADDRNOTAVAIL when
                    // the name does not resolve (also when the resolver does not answer in time)
  std::string message;  // "" on success, else a sentence naming the address
};

// Resolves `host` (name or numeric address, IPv6 without brackets) and connects to the first of
// its addresses that answers, giving up at `deadline`, which bounds the resolution too.
DialResult DialTcp(const std::string& host, uint16_t port,
                   std::chrono::steady_clock::time_point deadline);
inline DialResult DialTcp(const HostPort& address, std::chrono::steady_clock::time_point deadline) {
  return DialTcp(address.host, address.port, deadline);
}

// Milliseconds left until `deadline`, at least 0 and at most INT_MAX (a far deadline such as
// time_point::max() waits "forever"), for poll().
int MillisecondsUntil(std::chrono::steady_clock::time_point deadline);

// Sets TCP_NODELAY: requests and replies go out at once instead of waiting for more data.
void EnableNoDelay(int socket);

// Writes `port` and a newline to `path` through a temporary file in the same folder and a
// rename, so a reader sees either no file or the whole number. Returns false with `error` set.
bool WritePortFile(const std::string& path, int port, std::string& error);

}  // namespace tp
