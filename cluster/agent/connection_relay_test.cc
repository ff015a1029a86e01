// The agent's forwarding, for real over loopback: a PortForwarder in front of a small app,
// with a real tunnel (a socket pair) whose server end plays the manager and the handler.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cstring>
#include <thread>

#include "cluster/agent/port_forwarder.h"
#include "sync/mutex.h"

namespace tp::agent {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kTimeout = std::chrono::seconds(10);

UniqueFd ConnectLoopback(uint16_t port) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::connect(socket.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  return socket;
}

bool SendAll(int socket, const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(socket, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

struct Received {
  std::string bytes;
  int error = 0;  // 0: ended with EOF; ECONNRESET...; ETIMEDOUT
};

Received ReadUntilEnd(int socket) {
  Received received;
  const auto deadline = Clock::now() + kTimeout;
  char buffer[65536];
  while (Clock::now() < deadline) {
    pollfd wait{socket, POLLIN, 0};
    if (::poll(&wait, 1, 100) <= 0) continue;
    const ssize_t n = ::recv(socket, buffer, sizeof buffer, 0);
    if (n == 0) return received;
    if (n < 0) {
      received.error = errno;
      return received;
    }
    received.bytes.append(buffer, static_cast<size_t>(n));
  }
  received.error = ETIMEDOUT;
  return received;
}

// An app on 127.0.0.1:<any>: per connection, reads to EOF, answers "app got <size> bytes: <first
// 16 bytes>", closes.
class LoopbackApp {
 public:
  LoopbackApp() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listener_.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_.Get(), 8), 0);
    socklen_t length = sizeof address;
    ::getsockname(listener_.Get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackApp() {
    ::shutdown(listener_.Get(), SHUT_RDWR);
    thread_.join();
  }
  uint16_t Port() const { return port_; }

 private:
  void Serve() {
    while (true) {
      UniqueFd connection(::accept(listener_.Get(), nullptr, nullptr));
      if (!connection.Valid()) return;
      const Received request = ReadUntilEnd(connection.Get());
      SendAll(connection.Get(), "app got " + std::to_string(request.bytes.size()) +
                                    " bytes: " + request.bytes.substr(0, 16));
    }
  }
  UniqueFd listener_;
  uint16_t port_ = 0;
  std::thread thread_;
};

// How FakeManager's handler answers the open of "engagement/e-1".
enum class HandlerMode {
  kAcceptAtOnce,        // accepts, reads to EOF, answers "handler got <bytes>"
  kHoldWithoutReading,  // accepts and never reads
  kReadBeforeAnswer,    // reads to EOF first, then accepts and answers (refuses on a timeout)
  kRefuseAfterReading,  // reads to EOF, then refuses
};

// A tunnel over a socket pair; its server end answers OpenTcp("engagement/e-1") as a handler in
// `mode` and refuses everything else.
class FakeManager {
 public:
  explicit FakeManager(HandlerMode mode = HandlerMode::kAcceptAtOnce) : mode_(mode) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    tunnel::TunnelHandlers handlers;
    handlers.on_open_tcp = [this](std::unique_ptr<tunnel::TunnelStream> stream,
                                  const tunnel::OpenTcp& request) {
      Open(std::move(stream), request);
    };
    server_ = tunnel::TunnelConnection::Start(UniqueFd(fds[1]), tunnel::Role::kServer,
                                              std::move(handlers));
    client_ = tunnel::TunnelConnection::Start(UniqueFd(fds[0]), tunnel::Role::kClient, {});
  }
  ~FakeManager() {
    client_->Close("test over");
    for (std::thread& handler : handlers_) handler.join();
  }
  std::shared_ptr<tunnel::TunnelConnection> Client() const { return client_; }
  // Waits until the handler has seen `expected` (or the deadline); returns what it saw.
  std::string WaitForHandlerBytes(const std::string& expected) {
    MutexLock lock(mutex_);
    changed_.WaitUntil(mutex_, Clock::now() + kTimeout,
                       [&]() REQUIRES(mutex_) { return seen_ == expected; });
    return seen_;
  }
  int Opens() {
    MutexLock lock(mutex_);
    return opens_;
  }

 private:
  void Open(std::unique_ptr<tunnel::TunnelStream> stream, const tunnel::OpenTcp& request) {
    {
      MutexLock lock(mutex_);
      ++opens_;
    }
    if (request.host != "engagement/e-1") return stream->Refuse(ECONNREFUSED, "no engagement");
    if (mode_ == HandlerMode::kHoldWithoutReading) {
      stream->Accept();
      held_.push_back(std::move(stream));
      return;
    }
    if (mode_ == HandlerMode::kAcceptAtOnce) stream->Accept();
    handlers_.emplace_back([this, stream = std::shared_ptr<tunnel::TunnelStream>(
                                      std::move(stream))] { Handle(*stream); });
  }

  // Reads to EOF (before answering the open unless it is accepted), then answers.
  void Handle(tunnel::TunnelStream& stream) {
    std::vector<uint8_t> buffer(65536);
    std::string got;
    int error = 0;
    while (true) {
      const tunnel::IoResult read = stream.Read(buffer, Clock::now() + kTimeout);
      error = read.error;
      if (read.error != 0 || read.bytes == 0) break;
      got.append(reinterpret_cast<char*>(buffer.data()), read.bytes);
      MutexLock lock(mutex_);
      seen_ = got;
      changed_.NotifyAll();
    }
    if (mode_ == HandlerMode::kRefuseAfterReading || error != 0) {
      return stream.Refuse(ECONNREFUSED, "handler port closed");
    }
    stream.Accept();
    const std::string answer = "handler got " + got;
    stream.Write({reinterpret_cast<const uint8_t*>(answer.data()), answer.size()},
                 Clock::now() + kTimeout);
    stream.CloseWrite();
  }

  const HandlerMode mode_;
  std::shared_ptr<tunnel::TunnelConnection> server_;
  std::shared_ptr<tunnel::TunnelConnection> client_;
  std::vector<std::thread> handlers_;                        // reader thread only
  std::vector<std::unique_ptr<tunnel::TunnelStream>> held_;  // reader thread only
  Mutex mutex_;
  CondVar changed_;
  std::string seen_ GUARDED_BY(mutex_);
  int opens_ GUARDED_BY(mutex_) = 0;
};

// A forwarder on 127.0.0.1:<any> for workload port 0, to the app's port.
std::unique_ptr<PortForwarder> StartForwarder(uint16_t app_port,
                                              std::optional<Engagement> engagement,
                                              std::shared_ptr<tunnel::TunnelConnection> tunnel) {
  PortForwarderOptions options;
  options.listen_address = "127.0.0.1";
  options.ports = {0};
  options.app_port = [app_port](uint16_t) { return app_port; };
  RouteSource routes{[engagement] { return engagement; }, [tunnel] { return tunnel; }};
  std::string error;
  auto forwarder = PortForwarder::Start(options, routes, error);
  EXPECT_TRUE(forwarder) << error;
  return forwarder;
}

Received Exchange(uint16_t port, const std::string& request) {
  UniqueFd client = ConnectLoopback(port);
  if (!SendAll(client.Get(), request)) {
    // A reset can beat the request: the send then reports it (and a read after it sees EOF).
    const int error = errno;
    EXPECT_TRUE(error == ECONNRESET || error == EPIPE) << std::strerror(error);
    return {"", ECONNRESET};
  }
  ::shutdown(client.Get(), SHUT_WR);  // the half-close must reach the far end
  return ReadUntilEnd(client.Get());
}

const Engagement kReplace{"e-1", EngagementMode::kReplace, {0}};
const Engagement kWiretap{"e-1", EngagementMode::kWiretap, {0}};

TEST(PortForwarderTest, ForwardsToTheAppAndPassesHalfCloseOn) {
  LoopbackApp app;
  auto forwarder = StartForwarder(app.Port(), std::nullopt, nullptr);
  const Received answer = Exchange(forwarder->BoundPort(0), "hello");
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.bytes, "app got 5 bytes: hello");
}

TEST(PortForwarderTest, ResetsTheClientWhenTheAppDoesNotListen) {
  uint16_t closed_port = 0;
  {
    LoopbackApp gone;
    closed_port = gone.Port();
  }
  auto forwarder = StartForwarder(closed_port, std::nullopt, nullptr);
  EXPECT_EQ(Exchange(forwarder->BoundPort(0), "hello").error, ECONNRESET);
}

TEST(PortForwarderTest, EngagedConnectionsGoToTheHandlerOnly) {
  LoopbackApp app;
  FakeManager manager;
  auto forwarder = StartForwarder(app.Port(), kReplace, manager.Client());
  const Received answer = Exchange(forwarder->BoundPort(0), "hello");
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.bytes, "handler got hello");
}

TEST(PortForwarderTest, ARefusedEngagementResetsTheClient) {
  LoopbackApp app;
  FakeManager manager;
  auto forwarder = StartForwarder(app.Port(), Engagement{"e-gone", EngagementMode::kIntercept, {0}},
                                  manager.Client());
  EXPECT_EQ(Exchange(forwarder->BoundPort(0), "hello").error, ECONNRESET);
  EXPECT_EQ(manager.Opens(), 1);
}

// The client's bytes travel before the open is answered: this handler answers only after it
// read the whole request, which it could not with an open that waits for its answer first.
TEST(PortForwarderTest, TheClientsFirstBytesReachTheHandlerBeforeTheOpenIsAnswered) {
  LoopbackApp app;
  FakeManager manager(HandlerMode::kReadBeforeAnswer);
  auto forwarder = StartForwarder(app.Port(), kReplace, manager.Client());
  const Received answer = Exchange(forwarder->BoundPort(0), "early request");
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.bytes, "handler got early request");
}

// A handler whose port is closed refuses after the client's first bytes went out: the client
// gets a reset, never an orderly end nor a hang.
TEST(PortForwarderTest, AHandlerRefusalAfterTheFirstBytesResetsTheClient) {
  LoopbackApp app;
  FakeManager manager(HandlerMode::kRefuseAfterReading);
  auto forwarder = StartForwarder(app.Port(), kReplace, manager.Client());
  const Received answer = Exchange(forwarder->BoundPort(0), "doomed request");
  EXPECT_EQ(answer.error, ECONNRESET);
  EXPECT_EQ(answer.bytes, "");
  EXPECT_EQ(manager.WaitForHandlerBytes("doomed request"), "doomed request");
}

TEST(PortForwarderTest, WiretapAnswersFromTheAppAndCopiesToTheHandler) {
  LoopbackApp app;
  FakeManager manager;
  auto forwarder = StartForwarder(app.Port(), kWiretap, manager.Client());
  const Received answer = Exchange(forwarder->BoundPort(0), "tapped request");
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.bytes, "app got 14 bytes: tapped request");
  EXPECT_EQ(manager.WaitForHandlerBytes("tapped request"), "tapped request");
}

TEST(PortForwarderTest, AWiretapHandlerThatNeverReadsDoesNotSlowTheClient) {
  LoopbackApp app;
  FakeManager manager(HandlerMode::kHoldWithoutReading);
  auto forwarder = StartForwarder(app.Port(), kWiretap, manager.Client());
  const std::string big(16 * 1024 * 1024, 'x');
  const auto started = Clock::now();
  const Received answer = Exchange(forwarder->BoundPort(0), big);
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.bytes, "app got 16777216 bytes: xxxxxxxxxxxxxxxx");
  EXPECT_LT(Clock::now() - started, std::chrono::seconds(5));
}

TEST(PortForwarderTest, WiretapWithoutTunnelStillServesTheClient) {
  LoopbackApp app;
  auto forwarder = StartForwarder(app.Port(), kWiretap, nullptr);
  EXPECT_EQ(Exchange(forwarder->BoundPort(0), "hi").bytes, "app got 2 bytes: hi");
}

}  // namespace
}  // namespace tp::agent
