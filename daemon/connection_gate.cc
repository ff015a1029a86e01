#include "daemon/connection_gate.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "net/accept.h"
#include "net/socket_address.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kRelayBufferBytes = 16 * 1024;
constexpr auto kWarningInterval = std::chrono::seconds(1);
// When the gate stops, how long a connection may still deliver what the server already answered
// (e.g. the reply to POST /quit, which is what stops the gate).
constexpr auto kDrainTime = std::chrono::milliseconds(1000);

// A non-blocking connection to the Unix socket at `path`; invalid (errno set) when it does not
// accept at once.
UniqueFd ConnectUnix(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof address.sun_path) {
    errno = ENAMETOOLONG;
    return {};
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.data(), path.size());
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) return {};
  if (::connect(socket.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return {};
  }
  return socket;
}

// The bytes of one direction of a relay: read from `from`, not yet written to `to`.
class OneWay {
 public:
  OneWay(int from, int to) : from_(from), to_(to) {}

  // What to poll `from` and `to` for.
  bool WantsToRead() const { return !ended_ && end_ < buffer_.size(); }
  bool WantsToWrite() const { return begin_ < end_; }
  // The sender has closed and every byte has been passed on.
  bool Finished() const { return ended_ && begin_ == end_; }
  int to() const { return to_; }
  // Takes nothing more from the sender; what is buffered still goes.
  void StopReading() { ended_ = true; }

  // Reads and writes what the sockets take without blocking; false on an error of either.
  bool Move() {
    if (WantsToRead()) {
      const ssize_t got = ::recv(from_, buffer_.data() + end_, buffer_.size() - end_, 0);
      if (got == 0) ended_ = true;
      if (got < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (got > 0) end_ += static_cast<size_t>(got);
    }
    if (WantsToWrite()) {
      const ssize_t sent = ::send(to_, buffer_.data() + begin_, end_ - begin_, MSG_NOSIGNAL);
      if (sent < 0 && errno != EAGAIN && errno != EINTR) return false;
      if (sent > 0) begin_ += static_cast<size_t>(sent);
      if (begin_ == end_) begin_ = end_ = 0;
    }
    return true;
  }

 private:
  const int from_;
  const int to_;
  std::array<char, kRelayBufferBytes> buffer_{};
  size_t begin_ = 0;
  size_t end_ = 0;
  bool ended_ = false;
};

// The poll entry for `socket`: -1 (not polled) when neither direction wants it, so that a socket
// that has hung up cannot wake the loop while nothing can be done with it.
pollfd PollEntry(int socket, bool read, bool write) {
  const short events = static_cast<short>((read ? POLLIN : 0) | (write ? POLLOUT : 0));
  return {events != 0 ? socket : -1, events, 0};
}

}  // namespace

std::unique_ptr<ConnectionGate> ConnectionGate::Start(const std::string& host, uint16_t port,
                                                      std::string unix_path,
                                                      ConnectionGateOptions options,
                                                      std::string& error) {
  TcpListener listener = ListenTcp(HostPort{host, port}, error);
  if (!listener.socket.Valid()) return nullptr;
  UniqueFd stop_event(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_event.Valid()) {
    error = std::string("eventfd: ") + std::strerror(errno);
    return nullptr;
  }
  return std::unique_ptr<ConnectionGate>(new ConnectionGate(
      std::move(listener.socket), std::move(stop_event), static_cast<uint16_t>(listener.bound_port),
      std::move(unix_path), std::move(options)));
}

ConnectionGate::ConnectionGate(UniqueFd listener, UniqueFd stop_event, uint16_t port,
                               std::string unix_path, ConnectionGateOptions options)
    : listener_(std::move(listener)),
      stop_event_(std::move(stop_event)),
      port_(port),
      unix_path_(std::move(unix_path)),
      options_(std::move(options)),
      relays_(options_.max_connections),
      accept_thread_([this] { AcceptLoop(); }) {}

ConnectionGate::~ConnectionGate() { Stop(); }

void ConnectionGate::BeginStop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_event_.Get(), &one, sizeof one);
}

void ConnectionGate::Stop() {
  BeginStop();
  MutexLock lock(join_mutex_);
  if (accept_thread_.joinable()) accept_thread_.join();
  relays_.JoinAll();
}

void ConnectionGate::AcceptLoop() {
  while (true) {
    std::array<pollfd, 2> waiters{{{listener_.Get(), POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}}};
    if (::poll(waiters.data(), waiters.size(), -1) < 0 && errno != EINTR) {
      spdlog::error("{}: poll: {}", options_.name, std::strerror(errno));
      return;
    }
    if (waiters[1].revents != 0) return;
    if (waiters[0].revents == 0) continue;
    UniqueFd client = AcceptConnection(listener_.Get());
    if (!client.Valid()) continue;
    const Clock::time_point deadline = Clock::now() + options_.deadline;
    const std::string peer = PeerAddress(client.Get());
    if (!AdmitPeer(peer)) {
      Refuse(std::move(client));
      continue;
    }
    auto shared_client = std::make_shared<UniqueFd>(std::move(client));
    const bool started = relays_.Spawn([this, shared_client, deadline, peer] {
      Relay(std::move(*shared_client), deadline);
      ReleasePeer(peer);
    });
    if (!started) {
      ReleasePeer(peer);
      Refuse(std::move(*shared_client));
    }
  }
}

bool ConnectionGate::AdmitPeer(const std::string& peer) {
  MutexLock lock(peers_mutex_);
  size_t& open = open_by_peer_[peer];
  if (open >= options_.max_per_peer) return false;
  ++open;
  return true;
}

void ConnectionGate::ReleasePeer(const std::string& peer) {
  MutexLock lock(peers_mutex_);
  const auto found = open_by_peer_.find(peer);
  if (found == open_by_peer_.end()) return;
  if (--found->second == 0) open_by_peer_.erase(found);
}

void ConnectionGate::Refuse(UniqueFd client) {
  ++refused_since_warning_;
  const Clock::time_point now = Clock::now();
  if (now - last_warning_ < kWarningInterval) return;
  spdlog::warn(
      "{}: at its cap ({} connections, {} from one address): closed {} past it (the last "
      "from {})",
      options_.name, options_.max_connections, options_.max_per_peer, refused_since_warning_,
      PeerText(client.Get()));
  last_warning_ = now;
  refused_since_warning_ = 0;
}

void ConnectionGate::Relay(UniqueFd client, Clock::time_point deadline) const {
  const UniqueFd server = ConnectUnix(unix_path_);
  if (!server.Valid()) {
    spdlog::warn("{}: cannot reach its server at {}: {}", options_.name, unix_path_,
                 std::strerror(errno));
    return;
  }
  ::fcntl(client.Get(), F_SETFL, ::fcntl(client.Get(), F_GETFL) | O_NONBLOCK);
  OneWay to_server(client.Get(), server.Get());
  OneWay to_client(server.Get(), client.Get());
  bool server_told_of_end = false;
  bool draining = false;
  Clock::time_point until = deadline;
  while (!to_client.Finished()) {
    std::array<pollfd, 3> waiters{
        PollEntry(client.Get(), to_server.WantsToRead(), to_client.WantsToWrite()),
        PollEntry(server.Get(), to_client.WantsToRead(), to_server.WantsToWrite()),
        PollEntry(stop_event_.Get(), !draining, false)};
    const int ready = ::poll(waiters.data(), waiters.size(), MillisecondsUntil(until));
    if (ready < 0 && errno != EINTR) return;
    if (waiters[2].revents != 0) {
      // Stopping: no new request from the client; the server's answers still go out until it
      // closes (its end is not shut: httplib takes a half-closed socket for a dead one and would
      // not write the answer).
      draining = true;
      to_server.StopReading();
      until = std::min(deadline, Clock::now() + kDrainTime);
    }
    if (ready == 0 && Clock::now() >= until) {
      if (!draining) {
        spdlog::info("{}: closed the connection from {} at its deadline ({} ms)", options_.name,
                     PeerText(client.Get()), options_.deadline.count());
      }
      return;
    }
    if (!to_server.Move() || !to_client.Move()) return;
    if (!draining && to_server.Finished() && !server_told_of_end) {
      ::shutdown(server.Get(), SHUT_WR);
      server_told_of_end = true;
    }
  }
}

}  // namespace tp::daemon
