// Engagements behind a real ControlApi, against a fake traffic-manager: the far end of an
// in-process tunnel (socketpair) that answers list/engage/activate/leave like the design says,
// opens "engagement/<id>" streams towards the daemon, and dials loopback for the daemon's SFTP
// streams. The handler and the agent's SFTP server are TCP echo servers on loopback.
#include "daemon/engagements.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <list>
#include <thread>

#include "common/secret.h"
#include "common/sftp_preface.h"
#include "common/task_group.h"
#include "common/testing/loopback_peer.h"
#include "daemon/captured_tcp_relay.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;

tunnel::Deadline In(std::chrono::milliseconds duration) { return Clock::now() + duration; }

// What the fake agent's SFTP server asks for (the echo server below sees it first).
constexpr const char* kAgentSftpToken = "a9e17a9e17a9e17a9e17a9e17a9e17a9";

// Echoes every connection's bytes back, then half-closes after the client does.
class LoopbackEchoServer {
 public:
  LoopbackEchoServer() : listener_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener_.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(listener_.Get(), 16), 0);
    ::getsockname(listener_.Get(), reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~LoopbackEchoServer() {
    ::shutdown(listener_.Get(), SHUT_RDWR);
    acceptor_.join();
    echoes_.JoinAll();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_; }

 private:
  void AcceptLoop() {
    while (true) {
      auto client = std::make_shared<UniqueFd>(::accept4(listener_.Get(), nullptr, nullptr, 0));
      if (!client->Valid()) return;
      ++accepted_;
      echoes_.Spawn([client] {
        char buffer[4096];
        ssize_t got = 0;
        while ((got = ::recv(client->Get(), buffer, sizeof buffer, 0)) > 0) {
          if (::send(client->Get(), buffer, static_cast<size_t>(got), MSG_NOSIGNAL) != got) return;
        }
        ::shutdown(client->Get(), SHUT_WR);
      });
    }
  }

  UniqueFd listener_;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  TaskGroup echoes_{64};
  std::thread acceptor_;
};

// The manager's end of the tunnel. Engage answers for workload "echo" (ports 8080, 9090) with
// the agent at 127.0.0.1 and its SFTP port `sftp_port`; a second engage of it is refused.
class FakeManager {
 public:
  explicit FakeManager(uint16_t sftp_port) : sftp_port_(sftp_port) {}
  ~FakeManager() {
    if (peer_) peer_->Close("test over");
    stop_.Trigger();
    relays_.JoinAll();
  }

  // Starts both ends; the daemon's end hands streams to `on_open_tcp`.
  std::shared_ptr<tunnel::TunnelConnection> Connect(tunnel::TunnelHandlers daemon_handlers) {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    tunnel::TunnelHandlers handlers;
    handlers.on_request = [this](uint32_t id, tunnel::Request request) {
      peer_->SendReply(id, Answer(json::parse(request.body)), In(1s));
    };
    handlers.on_open_tcp = [this](std::unique_ptr<tunnel::TunnelStream> stream,
                                  const tunnel::OpenTcp& request) {
      std::shared_ptr<tunnel::TunnelStream> owned(std::move(stream));
      relays_.Spawn([this, owned, request] { DialAndRelay(*owned, request); });
    };
    peer_ = tunnel::TunnelConnection::Start(UniqueFd(fds[1]), tunnel::Role::kServer,
                                            std::move(handlers));
    return tunnel::TunnelConnection::Start(UniqueFd(fds[0]), tunnel::Role::kClient,
                                           std::move(daemon_handlers));
  }
  tunnel::TunnelConnection& peer() { return *peer_; }
  // The ops received, in order ("engage", "activate e-1", ...).
  std::vector<std::string> Ops() const {
    MutexLock lock(mutex_);
    return ops_;
  }

 private:
  tunnel::Reply Answer(const json& request) {
    const std::string op = request.at("op");
    MutexLock lock(mutex_);
    ops_.push_back(op + (request.contains("id") ? " " + request["id"].get<std::string>() : ""));
    if (op == "list") {
      return {0, json{{"workloads",
                       {{{"workload", "echo"},
                         {"container", "echo"},
                         {"address", "127.0.0.1"},
                         {"ports", {8080, 9090}},
                         {"mounts", {"/srv/echo-data"}},
                         {"engagement", nullptr}}}}}
                     .dump()};
    }
    if (op == "engage" && engaged_) {
      return {EEXIST, json{{"error", "workload echo is already engaged by e-1 (echo)"}}.dump()};
    }
    if (op == "engage") {
      engaged_ = true;
      return {0, json{{"id", "e-1"},
                      {"workload", "echo"},
                      {"container", "echo"},
                      {"address", "127.0.0.1"},
                      {"ports", {8080, 9090}},
                      {"sftp_port", sftp_port_},
                      {"sftp_token", kAgentSftpToken},
                      {"env", {{"ECHO_MESSAGE", "hi"}}},
                      {"mounts", {"/srv/echo-data"}}}
                     .dump()};
    }
    if (op == "leave") engaged_ = false;
    return {0, "{}"};
  }
  void DialAndRelay(tunnel::TunnelStream& stream, const tunnel::OpenTcp& request) {
    DialResult dial = DialTcp(request.host, request.port, In(2s));
    if (!dial.socket.Valid()) return stream.Refuse(dial.error, dial.message);
    stream.Accept();
    RelayCapturedTcp(dial.socket.Get(), stream, stop_);
  }

  const uint16_t sftp_port_;
  std::shared_ptr<tunnel::TunnelConnection> peer_;
  mutable Mutex mutex_;
  std::vector<std::string> ops_ GUARDED_BY(mutex_);
  bool engaged_ GUARDED_BY(mutex_) = false;
  StopEvent stop_;
  TaskGroup relays_{16};
};

// Sends `text`, half-closes, and reads until the far end closes.
std::string ExchangeOverSocket(int socket, const std::string& text) {
  EXPECT_EQ(::send(socket, text.data(), text.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(text.size()));
  ::shutdown(socket, SHUT_WR);
  std::string received;
  char buffer[4096];
  ssize_t got = 0;
  while ((got = ::recv(socket, buffer, sizeof buffer, 0)) > 0) received.append(buffer, got);
  return received;
}

std::string ExchangeOverStream(tunnel::TunnelStream& stream, const std::string& text) {
  const auto bytes = std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  EXPECT_TRUE(stream.Write(bytes, In(2s)).ok());
  stream.CloseWrite();
  std::string received;
  uint8_t buffer[4096];
  while (true) {
    const tunnel::IoResult read = stream.Read(buffer, In(2s));
    if (!read.ok() || read.bytes == 0) break;
    received.append(reinterpret_cast<const char*>(buffer), read.bytes);
  }
  return received;
}

class EngagementsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tunnel::TunnelHandlers handlers;
    handlers.on_open_tcp = [this](std::unique_ptr<tunnel::TunnelStream> stream,
                                  const tunnel::OpenTcp& request) {
      engagements_->OnOpenTcp(std::move(stream), request);
    };
    tunnel_ = manager_.Connect(std::move(handlers));
    EngagementsOptions options;
    options.sftp_listen_host = "127.0.0.1";
    engagements_ = std::make_unique<Engagements>(options, [this] { return tunnel_; });
    ControlCallbacks callbacks;
    engagements_->Attach(callbacks);
    std::string error;
    api_ = ControlApi::Start("127.0.0.1", 0, "", callbacks, error);
    ASSERT_TRUE(api_) << error;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", api_->Port());
    client_->set_read_timeout(5);
  }
  void TearDown() override {
    api_.reset();
    engagements_.reset();
  }

  // The status and JSON body of a request to the control API.
  std::pair<int, json> Call(const std::string& method, const std::string& path,
                            const json& body = nullptr) {
    httplib::Result result = method == "GET" ? client_->Get(path)
                             : method == "DELETE"
                                 ? client_->Delete(path)
                                 : client_->Post(path, body.dump(), "application/json");
    if (!result) return {0, nullptr};
    return {result->status, json::parse(result->body)};
  }
  json Engage() {
    const auto [status, body] =
        Call("POST", "/engagements", {{"workload", "echo"}, {"mode", "replace"}});
    EXPECT_EQ(status, 200) << body;
    return body;
  }

  LoopbackEchoServer sftp_server_;  // the agent's SFTP port
  FakeManager manager_{sftp_server_.port()};
  std::shared_ptr<tunnel::TunnelConnection> tunnel_;
  std::unique_ptr<Engagements> engagements_;
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(EngagementsTest, WorkloadsAreTheManagersList) {
  const auto [status, body] = Call("GET", "/workloads");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body.at("workloads").at(0).at("workload"), "echo");
  EXPECT_EQ(manager_.Ops(), std::vector<std::string>{"list"});
}

TEST_F(EngagementsTest, EngageAnswersWithALocalSftpPortAndListsIt) {
  const json answer = Engage();
  EXPECT_EQ(answer.at("id"), "e-1");
  EXPECT_EQ(answer.at("env"), json({{"ECHO_MESSAGE", "hi"}}));
  const uint16_t forward_port = answer.at("sftp_port");
  EXPECT_NE(forward_port, sftp_server_.port());
  const auto [status, list] = Call("GET", "/engagements");
  EXPECT_EQ(status, 200);
  ASSERT_EQ(list.at("engagements").size(), 1u);
  EXPECT_EQ(list["engagements"][0].at("sftp_port"), forward_port);
  EXPECT_TRUE(list["engagements"][0].at("handler").is_null());
  EXPECT_FALSE(list["engagements"][0].contains("env")) << "the workload's secrets are not kept";
  EXPECT_FALSE(list["engagements"][0].contains("sftp_token")) << "nor any SFTP credential";
}

TEST_F(EngagementsTest, TheManagersRefusalIsPassedOnUnchanged) {
  Engage();
  const auto [status, body] =
      Call("POST", "/engagements", {{"workload", "echo"}, {"mode", "intercept"}});
  EXPECT_EQ(status, 502);
  EXPECT_EQ(body, json({{"error", "workload echo is already engaged by e-1 (echo)"}}));
}

TEST_F(EngagementsTest, BadRequestsAnswer400And404) {
  const auto [bad_mode, bad_mode_body] =
      Call("POST", "/engagements", {{"workload", "echo"}, {"mode", "borrow"}});
  EXPECT_EQ(bad_mode, 400);
  EXPECT_EQ(bad_mode_body.at("error"),
            "field 'mode' is not one of replace, intercept, ingest, wiretap");
  const auto [unknown, unknown_body] =
      Call("POST", "/engagements/e-9/handler", {{"address", "127.0.0.1"}});
  EXPECT_EQ(unknown, 404);
  EXPECT_EQ(unknown_body.at("error"), "no engagement e-9 in this daemon");
  EXPECT_EQ(Call("DELETE", "/engagements/e-9").first, 404);
  EXPECT_TRUE(manager_.Ops().empty());
}

TEST_F(EngagementsTest, HandlerActivatesAndTakesTheEngagedPortsTraffic) {
  LoopbackEchoServer handler;
  Engage();
  // No handler yet: the manager's stream is refused with the reason.
  tunnel::OpenResult early = manager_.peer().OpenTcp("engagement/e-1", 8080, In(2s));
  ASSERT_FALSE(early.stream);
  EXPECT_EQ(early.error, ECONNREFUSED);
  EXPECT_EQ(early.reason, "engagement e-1 has no handler yet");

  const auto [status, body] =
      Call("POST", "/engagements/e-1/handler",
           {{"address", "127.0.0.1"}, {"ports", {{"8080", handler.port()}}}});
  ASSERT_EQ(status, 200) << body;
  EXPECT_EQ(body, json::object());
  EXPECT_EQ(manager_.Ops(), (std::vector<std::string>{"engage", "activate e-1"}));
  EXPECT_EQ(Call("POST", "/engagements/e-1/handler", {{"address", "127.0.0.1"}}).first, 409);

  tunnel::OpenResult opened = manager_.peer().OpenTcp("engagement/e-1", 8080, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  EXPECT_EQ(ExchangeOverStream(*opened.stream, "hello handler"), "hello handler");
  EXPECT_EQ(handler.accepted(), 1);
  const auto [_, list] = Call("GET", "/engagements");
  EXPECT_EQ(list["engagements"][0].at("handler"),
            json({{"address", "127.0.0.1"}, {"ports", {{"8080", handler.port()}}}}));
}

TEST_F(EngagementsTest, AHandlerThatDoesNotListenIsRefused) {
  Engage();
  uint16_t closed_port = 0;
  {
    LoopbackEchoServer gone;
    closed_port = gone.port();
  }
  ASSERT_EQ(Call("POST", "/engagements/e-1/handler",
                 {{"address", "127.0.0.1"}, {"ports", {{"9090", closed_port}}}})
                .first,
            200);
  tunnel::OpenResult opened = manager_.peer().OpenTcp("engagement/e-1", 9090, In(5s));
  ASSERT_FALSE(opened.stream);
  EXPECT_EQ(opened.error, ECONNREFUSED);
  EXPECT_TRUE(opened.reason.starts_with("cannot reach the handler at 127.0.0.1:" +
                                        std::to_string(closed_port)))
      << opened.reason;
}

TEST_F(EngagementsTest, SftpForwardRelaysToTheAgentThroughTheTunnel) {
  const json answer = Engage();
  const uint16_t forward_port = answer.at("sftp_port");
  const std::string token = answer.at("sftp_token");
  EXPECT_TRUE(IsSecretToken(token)) << token;
  EXPECT_NE(token, kAgentSftpToken) << "the engagement's own credential, not the agent's";
  DialResult dial = DialTcp("127.0.0.1", forward_port, In(2s));
  ASSERT_TRUE(dial.socket.Valid()) << dial.message;
  const std::string payload(100000, 's');
  // The agent sees its own preface first (the echo server sends it back), then the client's
  // bytes; the client's preface is the forward's and goes no further.
  EXPECT_EQ(ExchangeOverSocket(dial.socket.Get(), SftpPreface(token) + payload),
            SftpPreface(kAgentSftpToken) + payload);
  EXPECT_EQ(sftp_server_.accepted(), 1);
}

// Anyone who reaches the forward without the engagement's token reaches nothing: a plain SFTP
// client, a wrong token, a client that says nothing.
TEST_F(EngagementsTest, SftpForwardWantsTheEngagementsToken) {
  const json answer = Engage();
  const uint16_t forward_port = answer.at("sftp_port");
  std::string error;
  const std::string wrong_token = NewSecretToken(error).value_or("");
  const std::string sftp_init("\0\0\0\5\1\0\0\0\3", 9);
  for (const std::string& attempt :
       {sftp_init + std::string(64, '\0'), SftpPreface(wrong_token) + sftp_init}) {
    DialResult dial = DialTcp("127.0.0.1", forward_port, In(2s));
    ASSERT_TRUE(dial.socket.Valid()) << dial.message;
    EXPECT_EQ(ExchangeOverSocket(dial.socket.Get(), attempt), "");
  }
  EXPECT_EQ(sftp_server_.accepted(), 0) << "nothing was opened to the agent";
}

// Only the address the CLI names (the host's, where the telemount plugin connects from) reaches
// the workload's volumes; another container on the same networks is closed on, token or not.
TEST_F(EngagementsTest, SftpForwardServesOnlyTheNamedClient) {
  const auto [status, answer] =
      Call("POST", "/engagements",
           {{"workload", "echo"}, {"mode", "ingest"}, {"sftp_client", "127.0.0.2"}});
  ASSERT_EQ(status, 200) << answer;
  const uint16_t forward_port = answer.at("sftp_port");
  const std::string preface = SftpPreface(answer.at("sftp_token").get<std::string>());
  DialResult stranger = DialTcp("127.0.0.1", forward_port, In(2s));
  ASSERT_TRUE(stranger.socket.Valid()) << stranger.message;
  EXPECT_EQ(ExchangeOverSocket(stranger.socket.Get(), preface + "x"), "")
      << "closed, nothing relayed";
  EXPECT_EQ(sftp_server_.accepted(), 0);

  const UniqueFd named =
      test_support::ConnectFromLoopback(test_support::kSecondLoopbackAddress, forward_port);
  ASSERT_TRUE(named.Valid());
  const std::string payload(1000, 'v');
  EXPECT_EQ(ExchangeOverSocket(named.Get(), preface + payload),
            SftpPreface(kAgentSftpToken) + payload);
  EXPECT_EQ(sftp_server_.accepted(), 1);
}

TEST_F(EngagementsTest, ABadSftpClientIsRefused) {
  const auto [status, answer] = Call(
      "POST", "/engagements", {{"workload", "echo"}, {"mode", "ingest"}, {"sftp_client", "x"}});
  EXPECT_EQ(status, 400);
  EXPECT_EQ(answer.at("error"), "field 'sftp_client' is not an IPv4 address");
  EXPECT_TRUE(manager_.Ops().empty()) << "nothing asked of the manager";
}

TEST_F(EngagementsTest, LeaveTellsTheManagerAndClosesTheForward) {
  const uint16_t forward_port = Engage().at("sftp_port");
  const auto [status, body] = Call("DELETE", "/engagements/e-1");
  EXPECT_EQ(status, 200);
  EXPECT_EQ(body, json::object());
  EXPECT_EQ(manager_.Ops(), (std::vector<std::string>{"engage", "leave e-1"}));
  EXPECT_EQ(Call("GET", "/engagements").second, json({{"engagements", json::array()}}));
  EXPECT_EQ(DialTcp("127.0.0.1", forward_port, In(2s)).error, ECONNREFUSED);
}

TEST_F(EngagementsTest, ShutdownLeavesEveryEngagement) {
  Engage();
  engagements_->Shutdown();
  EXPECT_EQ(manager_.Ops(), (std::vector<std::string>{"engage", "leave e-1"}));
  tunnel::OpenResult opened = manager_.peer().OpenTcp("engagement/e-1", 8080, In(2s));
  EXPECT_EQ(opened.error, ECONNREFUSED);
}

TEST_F(EngagementsTest, AnEngagementEndsWithItsTunnel) {
  const uint16_t forward_port = Engage().at("sftp_port");
  manager_.peer().Close("manager gone");
  ASSERT_TRUE(tunnel_->WaitUntilDead(In(2s)));
  EXPECT_EQ(Call("GET", "/engagements").second, json({{"engagements", json::array()}}));
  EXPECT_EQ(DialTcp("127.0.0.1", forward_port, In(2s)).error, ECONNREFUSED);
}

TEST(Engagements, WithoutATunnelRequestsAnswer503) {
  Engagements engagements({}, [] { return nullptr; });
  const ControlReply workloads = engagements.ListWorkloads();
  EXPECT_EQ(workloads.status, 503);
  EXPECT_EQ(workloads.body, json({{"error", "not connected to the traffic-manager"}}));
  EXPECT_EQ(engagements.Engage({{"workload", "echo"}, {"mode", "ingest"}}).status, 503);
}

}  // namespace
}  // namespace tp::daemon
