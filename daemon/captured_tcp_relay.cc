#include "daemon/captured_tcp_relay.h"

#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using tunnel::TunnelStream;

// Stream reads and writes wait at most this long before looking at the stop event again.
constexpr std::chrono::milliseconds kStreamSlice{250};
constexpr size_t kCopyBufferBytes = 256 * 1024;

// What the two directions of one relay share.
class Relay {
 public:
  Relay(int socket, TunnelStream& stream, const StopEvent& stop)
      : socket_(socket), stream_(stream), stop_(stop) {}

  int socket() const { return socket_; }
  TunnelStream& stream() { return stream_; }
  bool Over() const { return failed_.load() || stop_.Triggered(); }
  bool Failed() const { return failed_.load(); }

  // Ends the relay both ways: the stream is reset (which wakes a reader of it) and the
  // direction waiting on the socket is woken.
  void Fail() {
    if (failed_.exchange(true)) return;
    stream_.Reset();
    wake_.Trigger();
  }

  // Waits until the socket is ready for `events`; false when the relay is over first.
  bool WaitForSocket(short events) {
    while (!Over()) {
      pollfd waiters[] = {{socket_, events, 0}, {wake_.Fd(), POLLIN, 0}, {stop_.Fd(), POLLIN, 0}};
      const int ready = ::poll(waiters, 3, -1);
      if (ready < 0 && errno != EINTR) return false;
      if (ready > 0 && waiters[0].revents != 0) return true;
    }
    return false;
  }

 private:
  const int socket_;
  TunnelStream& stream_;
  const StopEvent& stop_;
  StopEvent wake_;
  std::atomic<bool> failed_{false};
};

bool SendAll(Relay& relay, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(relay.socket(), data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent > 0) {
      data += sent;
      size -= static_cast<size_t>(sent);
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN && relay.WaitForSocket(POLLOUT)) continue;
    return false;
  }
  return true;
}

// Sends all of `bytes` on the stream, waiting for credit in slices.
bool WriteAll(Relay& relay, std::span<const uint8_t> bytes) {
  while (!bytes.empty()) {
    if (relay.Over()) return false;
    const tunnel::IoResult written = relay.stream().Write(bytes, Clock::now() + kStreamSlice);
    bytes = bytes.subspan(written.bytes);
    if (written.error != 0 && written.error != ETIMEDOUT) return false;
  }
  return true;
}

// Client -> stream. The client's FIN becomes the stream's half-close.
void CopyClientToStream(Relay& relay) {
  std::vector<uint8_t> buffer(kCopyBufferBytes);
  while (relay.WaitForSocket(POLLIN)) {
    const ssize_t got = ::recv(relay.socket(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got == 0) {
      relay.stream().CloseWrite();
      return;
    }
    if (got < 0 || !WriteAll(relay, std::span(buffer.data(), static_cast<size_t>(got)))) break;
  }
  relay.Fail();
}

// Stream -> client. The stream's half-close becomes the client's FIN.
void CopyStreamToClient(Relay& relay) {
  std::vector<uint8_t> buffer(kCopyBufferBytes);
  while (!relay.Over()) {
    const tunnel::IoResult read = relay.stream().Read(buffer, Clock::now() + kStreamSlice);
    if (read.error == ETIMEDOUT) continue;
    if (read.error != 0) break;
    if (read.bytes == 0) {
      ::shutdown(relay.socket(), SHUT_WR);
      return;
    }
    if (!SendAll(relay, buffer.data(), read.bytes)) break;
  }
  relay.Fail();
}

}  // namespace

RelayEnd RelayCapturedTcp(int client_socket, tunnel::TunnelStream& stream, const StopEvent& stop) {
  Relay relay(client_socket, stream, stop);
  std::thread client_to_stream([&relay] { CopyClientToStream(relay); });
  CopyStreamToClient(relay);
  client_to_stream.join();
  return relay.Failed() ? RelayEnd::kReset : RelayEnd::kClosed;
}

void ResetAndClose(UniqueFd socket) {
  const linger reset{1, 0};
  ::setsockopt(socket.Get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  socket.Reset();
}

}  // namespace tp::daemon
