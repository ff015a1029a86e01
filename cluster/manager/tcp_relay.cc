#include "cluster/manager/tcp_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "net/tcp_socket.h"
#include "tunnel/splice_pipe.h"

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

// Destination -> client through a pipe: splice(2) hands the socket's pages to the pipe and the
// tunnel hands them on to its socket, no byte copied through this process. Polls only when the
// last splice found less than it asked for. False when splicing does not work here (before any
// byte moved), so that the caller copies instead.
bool SpliceSocketToStream(Relay& relay) {
  tunnel::SplicePipe pipe = tunnel::SplicePipe::Make();
  if (!pipe.Valid()) return false;
  bool drained = false;
  bool moved_any = false;
  while (!relay.failed.load()) {
    if (drained && !WaitForSocket(relay, POLLIN)) break;
    const ssize_t got =
        tunnel::SpliceSome(relay.socket, pipe.write_end.Get(), tunnel::kSplicePipeBytes);
    if (got < 0 && errno == EINVAL && !moved_any) return false;
    drained = got < static_cast<ssize_t>(tunnel::kSplicePipeBytes);
    if (got < 0 && errno == EAGAIN) continue;
    if (got == 0) {
      relay.stream.CloseWrite();
      return true;
    }
    if (got < 0) break;
    moved_any = true;
    size_t pending = static_cast<size_t>(got);
    while (pending > 0) {
      const tunnel::IoResult written =
          relay.stream.WriteFromPipe(pipe.read_end.Get(), pending, Clock::now() + kPollSlice);
      pending -= written.bytes;
      if (written.error != 0 && written.error != ETIMEDOUT) break;
      if (relay.failed.load()) return true;
    }
    if (pending > 0) break;
  }
  relay.Fail();
  return true;
}

// Client -> destination, handed from the tunnel's socket to the destination's without a copy
// through this process (TunnelStream::ReadToSocket).
void CopyStreamToSocket(Relay& relay) {
  while (!relay.failed.load()) {
    const tunnel::IoResult read = relay.stream.ReadToSocket(relay.socket, tunnel::kSplicePipeBytes,
                                                            Clock::now() + kPollSlice);
    if (read.error == ETIMEDOUT) continue;
    if (read.error == EAGAIN && WaitForSocket(relay, POLLOUT)) continue;
    if (read.error != 0) break;
    if (read.bytes == 0) {
      ::shutdown(relay.socket, SHUT_WR);
      return;
    }
  }
  relay.Fail();
}

}  // namespace

void RelayTcpStream(std::unique_ptr<TunnelStream> stream, const tunnel::OpenTcp& request,
                    std::chrono::milliseconds connect_timeout) {
  DialResult dial = DialTcp(request.host, request.port, Clock::now() + connect_timeout);
  if (!dial.socket.Valid()) {
    spdlog::debug("stream {}: {}", stream->id(), dial.message);
    stream->Refuse(dial.error, dial.message);
    return;
  }
  stream->Accept();
  // Every call on the socket waits in poll, never in the call: splice(2) honours only this.
  ::fcntl(dial.socket.Get(), F_SETFL, ::fcntl(dial.socket.Get(), F_GETFL) | O_NONBLOCK);
  Relay relay{*stream, dial.socket.Get()};
  std::thread upstream([&relay] {
    if (!SpliceSocketToStream(relay)) CopySocketToStream(relay);
  });
  CopyStreamToSocket(relay);
  upstream.join();
}

}  // namespace tp::manager
