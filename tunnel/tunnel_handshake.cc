#include "tunnel/tunnel_handshake.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/secret.h"
#include "net/tcp_socket.h"

namespace tp::tunnel {
namespace {

using Clock = std::chrono::steady_clock;
// Hello, Welcome and Refused are small; a bigger length from a peer not yet authenticated is
// refused before anything is allocated for it.
constexpr size_t kMaxHandshakeFrameSize = 64 * 1024;

// Reads exactly `size` bytes; "" on success, else why not.
std::string ReadExactly(int socket, uint8_t* data, size_t size, Clock::time_point deadline) {
  while (size > 0) {
    pollfd waiter{socket, POLLIN, 0};
    const int ready = ::poll(&waiter, 1, MillisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready == 0) return "timed out";
    if (ready < 0) return std::strerror(errno);
    const ssize_t got = ::recv(socket, data, size, MSG_DONTWAIT);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (got == 0) return "connection closed by peer";
    if (got < 0) return std::strerror(errno);
    data += got;
    size -= static_cast<size_t>(got);
  }
  return "";
}

bool SendFrame(int socket, const Frame& frame, Clock::time_point deadline) {
  const std::vector<uint8_t> bytes = EncodeFrame(frame);
  return !bytes.empty() && WriteAll(socket, bytes, deadline);
}

ServerHandshakeResult Refuse(int socket, std::string reason, Clock::time_point deadline) {
  SendFrame(socket, {0, Refused{reason}}, deadline);
  ServerHandshakeResult result;
  result.error = std::move(reason);
  return result;
}

}  // namespace

bool WriteAll(int socket, std::span<const uint8_t> bytes, Clock::time_point deadline) {
  while (!bytes.empty()) {
    pollfd waiter{socket, POLLOUT, 0};
    const int ready = ::poll(&waiter, 1, MillisecondsUntil(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) return false;
    const ssize_t sent = ::send(socket, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (sent <= 0) return false;
    bytes = bytes.subspan(static_cast<size_t>(sent));
  }
  return true;
}

ReadFrameResult ReadOneFrame(int socket, Clock::time_point deadline) {
  ReadFrameResult result;
  std::vector<uint8_t> bytes(4);
  result.error = ReadExactly(socket, bytes.data(), 4, deadline);
  if (!result.error.empty()) return result;
  DecodeResult decoded = DecodeFrame(bytes);
  if (decoded.status == DecodeStatus::kNeedMore) {
    const size_t length =
        (size_t{bytes[0]} << 24) | (size_t{bytes[1]} << 16) | (size_t{bytes[2]} << 8) | bytes[3];
    if (length > kMaxHandshakeFrameSize) {
      result.error = "handshake frame of " + std::to_string(length) + " bytes";
      return result;
    }
    bytes.resize(4 + length);
    result.error = ReadExactly(socket, bytes.data() + 4, length, deadline);
    if (!result.error.empty()) return result;
    decoded = DecodeFrame(bytes);
  }
  if (decoded.status != DecodeStatus::kFrame) {
    result.error = "malformed frame: " + std::string(MalformedReasonName(decoded.reason));
    return result;
  }
  result.frame = std::move(decoded.frame);
  return result;
}

ClientHandshakeResult ClientHandshake(int socket, const Hello& hello, Clock::time_point deadline) {
  ClientHandshakeResult result;
  if (!SendFrame(socket, {0, hello}, deadline)) {
    result.error = "cannot send the tunnel greeting";
    return result;
  }
  ReadFrameResult answer = ReadOneFrame(socket, deadline);
  if (!answer.frame) {
    result.error = "no answer to the tunnel greeting: " + answer.error;
    return result;
  }
  if (auto* welcome = std::get_if<Welcome>(&answer.frame->body)) {
    result.welcome = std::move(*welcome);
  } else if (auto* refused = std::get_if<Refused>(&answer.frame->body)) {
    result.refused = true;
    result.error = "refused by the traffic-manager: " + refused->reason;
  } else {
    result.error = "unexpected " + std::string(FrameTypeName(answer.frame->type())) +
                   " frame in answer to the tunnel greeting";
  }
  return result;
}

ServerHandshakeResult ServerHandshake(int socket, const SecretForClient& secret_for,
                                      const Welcome& welcome, Clock::time_point deadline) {
  ReadFrameResult greeting = ReadOneFrame(socket, deadline);
  if (!greeting.frame) {
    ServerHandshakeResult result;
    result.error = "no greeting: " + greeting.error;
    return result;
  }
  auto* hello = std::get_if<Hello>(&greeting.frame->body);
  if (hello == nullptr) return Refuse(socket, "expected Hello", deadline);
  if (hello->protocol_version != kProtocolVersion) {
    return Refuse(socket,
                  "protocol version " + std::to_string(hello->protocol_version) +
                      " not supported (this manager speaks " + std::to_string(kProtocolVersion) +
                      ")",
                  deadline);
  }
  const std::optional<std::string> expected_secret = secret_for(hello->client_name);
  const bool secret_matches =
      expected_secret && !expected_secret->empty() && SameSecret(hello->secret, *expected_secret);
  hello->secret.clear();
  if (!secret_matches) return Refuse(socket, "wrong secret", deadline);
  ServerHandshakeResult result;
  result.hello = std::move(*hello);
  if (!SendFrame(socket, {0, welcome}, deadline)) {
    result.error = "cannot send Welcome";
    return result;
  }
  result.accepted = true;
  return result;
}

}  // namespace tp::tunnel
