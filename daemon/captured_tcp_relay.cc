#include "daemon/captured_tcp_relay.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <thread>
#include <vector>

#include "common/companion_task.h"
#include "tunnel/splice_pipe.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using tunnel::TunnelStream;

// Stream reads and writes wait at most this long before looking at the stop event again.
constexpr std::chrono::milliseconds kStreamSlice{250};
constexpr size_t kCopyBufferBytes = 256 * 1024;
// Stream -> client: the most bytes handed on per call.
constexpr size_t kMoveBytes = 1024 * 1024;

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

// Sends the `count` bytes waiting in `pipe` on the stream, waiting for credit in slices.
bool WriteAllFromPipe(Relay& relay, int pipe, size_t count) {
  while (count > 0) {
    if (relay.Over()) return false;
    const tunnel::IoResult written =
        relay.stream().WriteFromPipe(pipe, count, Clock::now() + kStreamSlice);
    count -= written.bytes;
    if (written.error != 0 && written.error != ETIMEDOUT) return false;
  }
  return true;
}

// Client -> stream. The client's FIN becomes the stream's half-close. Reads first and polls
// only when the last read found the socket empty: one system call per chunk while bytes flow.
void CopyClientToStream(Relay& relay) {
  std::vector<uint8_t> buffer(kCopyBufferBytes);
  bool drained = false;
  while (!relay.Over()) {
    if (drained && !relay.WaitForSocket(POLLIN)) break;
    const ssize_t got = ::recv(relay.socket(), buffer.data(), buffer.size(), MSG_DONTWAIT);
    drained = got < static_cast<ssize_t>(buffer.size());
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got == 0) {
      relay.stream().CloseWrite();
      return;
    }
    if (got < 0 || !WriteAll(relay, std::span(buffer.data(), static_cast<size_t>(got)))) break;
  }
  relay.Fail();
}

// Client -> stream through a pipe: splice(2) hands the socket's pages to the pipe and the
// tunnel hands them on to its socket, no byte copied through this process. Polls only when the
// last splice found less than it asked for. False when splicing does not work here (before any
// byte moved), so that the caller copies instead.
bool SpliceClientToStream(Relay& relay) {
  tunnel::SplicePipe pipe = tunnel::SplicePipe::Make();
  if (!pipe.Valid()) return false;
  bool drained = false;
  bool moved_any = false;
  while (!relay.Over()) {
    if (drained && !relay.WaitForSocket(POLLIN)) break;
    const ssize_t got =
        tunnel::SpliceSome(relay.socket(), pipe.write_end.Get(), tunnel::kSplicePipeBytes);
    if (got < 0 && errno == EINVAL && !moved_any) return false;
    drained = got < static_cast<ssize_t>(tunnel::kSplicePipeBytes);
    if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (got == 0) {
      relay.stream().CloseWrite();
      return true;
    }
    if (got < 0 || !WriteAllFromPipe(relay, pipe.read_end.Get(), static_cast<size_t>(got))) break;
    moved_any = true;
  }
  relay.Fail();
  return true;
}

// Stream -> client, handed from the tunnel's socket to the client's without a copy through this
// process (TunnelStream::ReadToSocket). The stream's half-close becomes the client's FIN.
void CopyStreamToClient(Relay& relay) {
  while (!relay.Over()) {
    const tunnel::IoResult read =
        relay.stream().ReadToSocket(relay.socket(), kMoveBytes, Clock::now() + kStreamSlice);
    if (read.error == ETIMEDOUT) continue;
    if (read.error == EAGAIN && relay.WaitForSocket(POLLOUT)) continue;
    if (read.error != 0) break;
    if (read.bytes == 0) {
      ::shutdown(relay.socket(), SHUT_WR);
      return;
    }
  }
  relay.Fail();
}

}  // namespace

RelayEnd RelayCapturedTcp(int client_socket, tunnel::TunnelStream& stream, const StopEvent& stop,
                          TaskGroup* helpers) {
  // Every call on the socket waits in poll, never in the call: splice(2) honours only this.
  ::fcntl(client_socket, F_SETFL, ::fcntl(client_socket, F_GETFL) | O_NONBLOCK);
  Relay relay(client_socket, stream, stop);
  CompanionTask client_to_stream(helpers, [&relay] {
    if (!SpliceClientToStream(relay)) CopyClientToStream(relay);
  });
  CopyStreamToClient(relay);
  client_to_stream.Join();
  return relay.Failed() ? RelayEnd::kReset : RelayEnd::kClosed;
}

void ResetAndClose(UniqueFd socket) {
  const linger reset{1, 0};
  ::setsockopt(socket.Get(), SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
  socket.Reset();
}

}  // namespace tp::daemon
