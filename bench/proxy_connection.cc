#include "bench/proxy_connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace tp::bench {
namespace {

constexpr size_t kReadSize = 256 * 1024;
// Enough for 25 ms at several GB/s; a cap only so a stalled peer cannot grow memory unbounded.
constexpr size_t kMaxBytesInFlight = 64 * 1024 * 1024;

// Writes all of `bytes`; false when the peer is gone.
bool SendAll(int fd, const std::vector<char>& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ProxyConnection::Direction::Direction(int from_fd, int to_fd)
    : from(from_fd), to(to_fd), line(kMaxBytesInFlight) {}

ProxyConnection::ProxyConnection(UniqueFd client, UniqueFd server, Clock::duration delay)
    : client_(std::move(client)),
      server_(std::move(server)),
      delay_(delay),
      upstream_(client_.Get(), server_.Get()),
      downstream_(server_.Get(), client_.Get()) {
  Start(upstream_);
  Start(downstream_);
}

ProxyConnection::~ProxyConnection() {
  Abort();
  for (Direction* direction : {&upstream_, &downstream_}) {
    direction->reader.join();
    direction->writer.join();
  }
}

void ProxyConnection::Abort() {
  upstream_.line.Close();
  downstream_.line.Close();
  ::shutdown(client_.Get(), SHUT_RDWR);
  ::shutdown(server_.Get(), SHUT_RDWR);
}

void ProxyConnection::Start(Direction& direction) {
  direction.reader = std::thread([this, &direction] {
    ReadLoop(direction);
    ++finished_threads_;
  });
  direction.writer = std::thread([this, &direction] {
    WriteLoop(direction);
    ++finished_threads_;
  });
}

void ProxyConnection::ReadLoop(Direction& direction) {
  std::vector<char> buffer(kReadSize);
  while (true) {
    const ssize_t n = ::read(direction.from, buffer.data(), buffer.size());
    if (n < 0 && errno == EINTR) continue;
    const auto due = Clock::now() + delay_;
    if (n <= 0) {  // end of stream or reset: pass on the end after the delay
      direction.line.PushEnd(due);
      return;
    }
    std::vector<char> chunk(buffer.begin(), buffer.begin() + n);  // exact size: small stays small
    if (!direction.line.Push(std::move(chunk), due)) return;
  }
}

void ProxyConnection::WriteLoop(Direction& direction) {
  while (auto chunk = direction.line.PopDue()) {
    if (chunk->bytes.empty()) {
      ::shutdown(direction.to, SHUT_WR);
      return;
    }
    if (!SendAll(direction.to, chunk->bytes)) {
      // The receiver is gone: stop this direction and wake its reader.
      direction.line.Close();
      ::shutdown(direction.from, SHUT_RD);
      return;
    }
  }
}

}  // namespace tp::bench
