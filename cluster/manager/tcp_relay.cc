#include "cluster/manager/tcp_relay.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "tunnel/tcp_dial.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
using tunnel::TunnelStream;

// Every blocking step waits at most this long before checking whether the relay is over.
constexpr std::chrono::milliseconds kPollSlice{250};
constexpr size_t kCopyBufferBytes = 256 * 1024;

// State shared by the two copying directions of one relay.
struct Relay {
  TunnelStream& stream;
  int socket;
  std::atomic<bool> failed{false};

  // Ends the relay both ways: the stream is reset and the socket shut down, which wakes the
  // other direction wherever it waits.
  void Fail() {
    if (failed.exchange(true)) return;
    stream.Reset();
    ::shutdown(socket, SHUT_RDWR);
  }
};

// Waits until `socket` is ready for `events`, in slices, while the relay lives.
bool WaitForSocket(Relay& relay, short events) {
  while (!relay.failed.load() && !relay.stream.Failed()) {
    pollfd waiter{relay.socket, events, 0};
    const int ready = ::poll(&waiter, 1, static_cast<int>(kPollSlice.count()));
    if (ready > 0) return true;
    if (ready < 0 && errno != EINTR) return false;
  }
  return false;
}

// Sends first and polls only when the socket is full: one system call per chunk when it flows.
bool SendAll(Relay& relay, const uint8_t* data, size_t size) {
  while (size > 0) {
    const ssize_t sent = ::send(relay.socket, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) {
      if (!WaitForSocket(relay, POLLOUT)) return false;
      continue;
    }
    if (sent <= 0) return false;
    data += sent;
    size -= static_cast<size_t>(sent);
  }
  return true;
}

// Destination -> client. Polls only when the last read emptied the socket: one system call per
// chunk while bytes flow.
void CopySocketToStream(Relay& relay) {
  std::vector<uint8_t> buffer(kCopyBufferBytes);
  bool drained = false;
  while (!relay.failed.load()) {
    if (drained && !WaitForSocket(relay, POLLIN)) break;
    const ssize_t got = ::recv(relay.socket, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (got < 0 && errno == EINTR) continue;
    drained = got < static_cast<ssize_t>(buffer.size());
    if (got < 0 && errno == EAGAIN) continue;
    if (got == 0) {
      relay.stream.CloseWrite();
      return;
    }
    if (got < 0) break;
    std::span<const uint8_t> pending(buffer.data(), static_cast<size_t>(got));
    while (!pending.empty()) {
      const tunnel::IoResult written = relay.stream.Write(pending, Clock::now() + kPollSlice);
      pending = pending.subspan(written.bytes);
      if (written.error != 0 && written.error != ETIMEDOUT) break;
      if (relay.failed.load()) return;
    }
    if (!pending.empty()) break;
  }
  relay.Fail();
}

// Client -> destination.
void CopyStreamToSocket(Relay& relay) {
  std::vector<uint8_t> buffer(kCopyBufferBytes);
  while (!relay.failed.load()) {
    const tunnel::IoResult read = relay.stream.Read(buffer, Clock::now() + kPollSlice);
    if (read.error == ETIMEDOUT) continue;
    if (read.error != 0) break;
    if (read.bytes == 0) {
      ::shutdown(relay.socket, SHUT_WR);
      return;
    }
    if (!SendAll(relay, buffer.data(), read.bytes)) break;
  }
  relay.Fail();
}

}  // namespace

void RelayTcpStream(std::unique_ptr<TunnelStream> stream, const tunnel::OpenTcp& request,
                    std::chrono::milliseconds connect_timeout) {
  tunnel::DialResult dial =
      tunnel::DialTcp(request.host, request.port, Clock::now() + connect_timeout);
  if (!dial.socket.Valid()) {
    spdlog::debug("stream {}: {}", stream->id(), dial.message);
    stream->Refuse(dial.error, dial.message);
    return;
  }
  stream->Accept();
  Relay relay{*stream, dial.socket.Get()};
  std::thread upstream([&relay] { CopySocketToStream(relay); });
  CopyStreamToSocket(relay);
  upstream.join();
}

}  // namespace tp::manager
