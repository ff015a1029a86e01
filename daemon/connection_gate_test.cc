// ConnectionGate on 127.0.0.1:<any> in front of a Unix socket: requests and answers pass both
// ways, a connection past the cap is closed at once while the gate keeps serving, and a
// connection that is still open at its deadline is closed on both sides.
#include "daemon/connection_gate.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "common/testing/loopback_peer.h"
#include "common/unix_http_server.h"
#include "net/tcp_socket.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A fresh folder under the temporary folder, removed with its content.
class TemporaryFolder {
 public:
  TemporaryFolder() {
    std::string pattern = (std::filesystem::temp_directory_path() / "gate-test-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TemporaryFolder() {
    std::error_code ignored;
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

UniqueFd Dial(uint16_t port) { return DialTcp("127.0.0.1", port, Clock::now() + 2s).socket; }

bool Send(int socket, const std::string& text) {
  return tunnel::WriteAll(socket,
                          std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size()),
                          Clock::now() + 2s);
}

// When the peer closed `socket` (recv gives 0 or an error), or nullopt if it is still open at
// `deadline`. Bytes that arrive meanwhile are dropped.
std::optional<Clock::time_point> WaitForClose(int socket, Clock::time_point deadline) {
  while (true) {
    pollfd waiter{socket, POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return std::nullopt;
    char buffer[512];
    if (::recv(socket, buffer, sizeof buffer, 0) <= 0) return Clock::now();
  }
}

// A Unix socket listening at `path` (a plain server standing in for httplib); invalid, errno
// set, on failure.
UniqueFd ListenUnix(const std::string& path) {
  UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  if (!listener.Valid() ||
      ::bind(listener.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener.Get(), 4) != 0) {
    return {};
  }
  return listener;
}

// The next connection to `listener` (the gate's side of a relay), or invalid after `timeout`.
UniqueFd AcceptWithin(int listener, std::chrono::milliseconds timeout) {
  pollfd waiter{listener, POLLIN, 0};
  if (::poll(&waiter, 1, static_cast<int>(timeout.count())) != 1) return {};
  return UniqueFd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
}

class ConnectionGateTest : public ::testing::Test {
 protected:
  // Opens `count` connections from 127.0.0.1 that each send a byte and stall (kept in
  // `stalled`), then checks that one more is closed by the gate within 500 ms.
  void StallThenSeeTheNextClosed(size_t count, std::vector<UniqueFd>& stalled) {
    for (size_t i = 0; i < count; ++i) {
      stalled.push_back(Dial(gate_->Port()));
      ASSERT_TRUE(stalled.back().Valid());
      ASSERT_TRUE(Send(stalled.back().Get(), "G"));
    }
    const UniqueFd extra = Dial(gate_->Port());
    ASSERT_TRUE(extra.Valid());
    const auto start = Clock::now();
    const auto closed = WaitForClose(extra.Get(), start + 2s);
    ASSERT_TRUE(closed) << "the connection past the cap stayed open";
    EXPECT_LT(*closed - start, 500ms);
  }

  // Serves GET /status ("ok") and POST /echo on a Unix socket; a gate with `options` in front.
  void StartGate(ConnectionGateOptions options) {
    server_.Get("/status", [](const httplib::Request&, httplib::Response& response) {
      response.set_content("ok", "text/plain");
    });
    server_.Post("/echo", [](const httplib::Request& request, httplib::Response& response) {
      response.set_content(request.body, "text/plain");
    });
    std::string error;
    ASSERT_TRUE(server_.ListenUnix(socket_path_, 0600, error)) << error;
    server_thread_ = std::thread([this] { server_.Serve(); });
    const auto deadline = Clock::now() + 2s;  // stop() before it runs would be lost
    while (!server_.is_running() && Clock::now() < deadline) std::this_thread::sleep_for(1ms);
    ASSERT_TRUE(server_.is_running());
    gate_ = ConnectionGate::Start("127.0.0.1", 0, socket_path_, options, error);
    ASSERT_TRUE(gate_) << error;
  }

  void TearDown() override {
    if (gate_) gate_->Stop();
    server_.stop();
    if (server_thread_.joinable()) server_thread_.join();
  }

  httplib::Client Client() const {
    httplib::Client client("127.0.0.1", gate_->Port());
    client.set_connection_timeout(2);
    client.set_read_timeout(2);
    return client;
  }

  TemporaryFolder folder_;
  const std::string socket_path_ = folder_.File("http.sock");
  UnixHttpServer server_;
  std::thread server_thread_;
  std::unique_ptr<ConnectionGate> gate_;
};

TEST_F(ConnectionGateTest, RequestsAndAnswersPassBothWays) {
  StartGate({"test", 4, 5s});
  httplib::Client client = Client();
  const auto status = client.Get("/status");
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->body, "ok");
  const std::string large(200 * 1024, 'x');  // more than the relay's buffers
  const auto echo = client.Post("/echo", large, "text/plain");
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->status, 200);
  EXPECT_EQ(echo->body, large);
}

TEST_F(ConnectionGateTest, AConnectionPastTheCapIsClosedAtOnceAndTheGateServesOn) {
  constexpr size_t kCap = 4;
  StartGate({"test", kCap, 30s});
  std::vector<UniqueFd> stalled;
  ASSERT_NO_FATAL_FAILURE(StallThenSeeTheNextClosed(kCap, stalled));
  for (const UniqueFd& connection : stalled) {
    EXPECT_FALSE(WaitForClose(connection.Get(), Clock::now()))
        << "a connection within the cap was closed";
  }
  stalled.clear();  // their relays end once the server sees the clients go
  httplib::Client client = Client();
  std::string body;
  const auto deadline = Clock::now() + 3s;
  while (Clock::now() < deadline) {
    if (const auto status = client.Get("/status")) {
      body = status->body;
      break;
    }
    std::this_thread::sleep_for(20ms);  // retried until the closed relays have ended
  }
  EXPECT_EQ(body, "ok") << "the gate did not serve again once the stalled clients left";
}

// A neighbour container (one address) that opens connections without end reaches its own cap;
// another address (the host's CLI) is still served.
TEST_F(ConnectionGateTest, OneAddressCannotTakeEverySlot) {
  constexpr size_t kPerPeer = 2;
  StartGate({"test", 8, 30s, kPerPeer});
  std::vector<UniqueFd> stalled;
  ASSERT_NO_FATAL_FAILURE(StallThenSeeTheNextClosed(kPerPeer, stalled));

  const UniqueFd other =
      test_support::ConnectFromLoopback(test_support::kSecondLoopbackAddress, gate_->Port());
  ASSERT_TRUE(other.Valid());
  ASSERT_TRUE(Send(other.Get(), "GET /status HTTP/1.0\r\n\r\n"));
  std::string answer;
  char buffer[512];
  ssize_t got = 0;
  while ((got = ::recv(other.Get(), buffer, sizeof buffer, 0)) > 0) answer.append(buffer, got);
  EXPECT_NE(answer.find("200 OK"), std::string::npos) << answer;
  EXPECT_TRUE(answer.ends_with("ok")) << answer;
  for (const UniqueFd& connection : stalled) {
    EXPECT_FALSE(WaitForClose(connection.Get(), Clock::now()))
        << "a connection within the address's cap was closed";
  }
}

// A client that keeps sending one byte at a time never finishes a request: the gate closes it at
// its deadline all the same.
TEST_F(ConnectionGateTest, AClientStillSendingAtItsDeadlineIsClosed) {
  constexpr auto kDeadline = 300ms;
  StartGate({"test", 4, kDeadline});
  const UniqueFd trickle = Dial(gate_->Port());
  ASSERT_TRUE(trickle.Valid());
  const auto start = Clock::now();
  const std::string request = "GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ";
  std::optional<Clock::time_point> closed;
  for (size_t sent = 0; !closed && Clock::now() < start + kDeadline + 2s; ++sent) {
    const char byte = sent < request.size() ? request[sent] : 'a';
    if (::send(trickle.Get(), &byte, 1, MSG_NOSIGNAL) != 1) closed = Clock::now();
    if (!closed) closed = WaitForClose(trickle.Get(), Clock::now() + 50ms);
  }
  ASSERT_TRUE(closed) << "still open " << (kDeadline + 2s).count() << " ms after the accept";
  EXPECT_GE(*closed - start, kDeadline - 50ms);
  EXPECT_LE(*closed - start, kDeadline + 1s);
}

// The server's side goes too: a server that is waiting for the rest of a request sees the end.
TEST(ConnectionGate, TheServersSideIsClosedAtTheDeadlineToo) {
  TemporaryFolder folder;
  const std::string path = folder.File("raw.sock");
  const UniqueFd listener = ListenUnix(path);
  ASSERT_TRUE(listener.Valid()) << std::strerror(errno);
  std::string error;
  const auto gate = ConnectionGate::Start("127.0.0.1", 0, path, {"test", 4, 300ms}, error);
  ASSERT_TRUE(gate) << error;
  const UniqueFd client = Dial(gate->Port());
  ASSERT_TRUE(client.Valid());
  const auto start = Clock::now();
  ASSERT_TRUE(Send(client.Get(), "GET /sta"));
  const UniqueFd server_side = AcceptWithin(listener.Get(), 2s);
  ASSERT_TRUE(server_side.Valid()) << "the gate did not connect to the server";
  const auto closed = WaitForClose(server_side.Get(), start + 2s);
  ASSERT_TRUE(closed) << "the server's side stayed open past the deadline";
  EXPECT_GE(*closed - start, 250ms);
  EXPECT_LE(*closed - start, 1300ms);
  EXPECT_TRUE(WaitForClose(client.Get(), Clock::now() + 1s)) << "the client's side stayed open";
}

// The request that stops the daemon (POST /quit) is answered after the stop began: the gate
// still delivers what the server answers until the server closes; a server that never closes is
// cut after the drain time.
TEST(ConnectionGate, AnAnswerInFlightWhenTheGateStopsStillReachesTheClient) {
  TemporaryFolder folder;
  const std::string path = folder.File("raw.sock");
  const UniqueFd listener = ListenUnix(path);
  ASSERT_TRUE(listener.Valid()) << std::strerror(errno);
  std::string error;
  const auto gate = ConnectionGate::Start("127.0.0.1", 0, path, {"test", 4, 30s}, error);
  ASSERT_TRUE(gate) << error;
  const UniqueFd answered = Dial(gate->Port());
  ASSERT_TRUE(Send(answered.Get(), "quit?"));
  const UniqueFd answering = AcceptWithin(listener.Get(), 2s);
  ASSERT_TRUE(answering.Valid()) << "the gate did not connect to the server";
  const UniqueFd idle = Dial(gate->Port());
  const UniqueFd silent = AcceptWithin(listener.Get(), 2s);  // never answers, never closes
  ASSERT_TRUE(silent.Valid());
  char question[5];
  ASSERT_EQ(::recv(answering.Get(), question, sizeof question, MSG_WAITALL), 5);

  const auto start = Clock::now();
  gate->BeginStop();
  std::thread stopper([&gate] { gate->Stop(); });
  ASSERT_TRUE(Send(answering.Get(), "stopping"));
  ::shutdown(answering.Get(), SHUT_WR);
  std::string answer;
  char buffer[64];
  ssize_t got = 0;
  while ((got = ::recv(answered.Get(), buffer, sizeof buffer, 0)) > 0) answer.append(buffer, got);
  EXPECT_EQ(answer, "stopping");
  stopper.join();
  EXPECT_LE(Clock::now() - start, 1500ms) << "a server that never closes holds Stop() no longer";
  EXPECT_TRUE(WaitForClose(idle.Get(), Clock::now() + 1s)) << "the idle client stayed open";
}

TEST(ConnectionGate, ABusyPortIsAnError) {
  std::string error;
  const auto first = ConnectionGate::Start("127.0.0.1", 0, "/nonexistent", {}, error);
  ASSERT_TRUE(first) << error;
  EXPECT_FALSE(ConnectionGate::Start("127.0.0.1", first->Port(), "/nonexistent", {}, error));
  EXPECT_NE(error.find("cannot listen on 127.0.0.1:" + std::to_string(first->Port())),
            std::string::npos)
      << error;
}

}  // namespace
}  // namespace tp::daemon
