// ConnectFromLoopback: a TCP connection to 127.0.0.1:port from another loopback address (e.g.
// 127.0.0.2), so that a test can stand for a second peer, such as a neighbour container, whose
// address differs from the test's own.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>

#include "net/unique_fd.h"

namespace tp::test_support {

// A blocking connection from `source` (host byte order, in 127.0.0.0/8); invalid on failure.
inline UniqueFd ConnectFromLoopback(uint32_t source, uint16_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in from{};
  from.sin_family = AF_INET;
  from.sin_addr.s_addr = htonl(source);
  if (::bind(socket.Get(), reinterpret_cast<sockaddr*>(&from), sizeof from) != 0) return {};
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(socket.Get(), reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) return {};
  return socket;
}

inline constexpr uint32_t kSecondLoopbackAddress = 0x7f000002;  // 127.0.0.2

}  // namespace tp::test_support
