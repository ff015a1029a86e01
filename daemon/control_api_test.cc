// ControlApi on 127.0.0.1:<any> with fake callbacks: the exact JSON, /quit, unknown paths, the
// engagement routes (path ids, bodies, malformed JSON).
#include "daemon/control_api.h"

#include <gtest/gtest.h>
#include <httplib.h>
#include <poll.h>
#include <sys/socket.h>

#include <atomic>
#include <span>
#include <vector>

#include "net/tcp_socket.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::daemon {
namespace {

using namespace std::chrono_literals;

api::DaemonStatus SampleStatus() {
  api::DaemonStatus status;
  status.connected = true;
  status.manager = "127.0.0.1:8081";
  status.subnets = {"10.96.0.0/12"};
  status.dns_address = "127.0.0.1:5353";
  status.dns_search = {"default.svc.cluster.local", "svc.cluster.local"};
  status.reconnects = 2;
  status.capture = {true, true, 15001, {"10.96.0.0/12"}, ""};
  return status;
}

class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ControlCallbacks callbacks;
    callbacks.status = [] { return SampleStatus(); };
    callbacks.quit = [this] { ++quits_; };
    callbacks.engage = [this](const nlohmann::json& body) {
      seen_ = {{"engage", body}};
      return ControlReply{200, {{"id", "e-1"}}};
    };
    callbacks.set_handler = [this](const std::string& id, const nlohmann::json& body) {
      seen_ = {{"handler", id}, {"body", body}};
      return ControlReply{409, {{"error", "conflict"}}};
    };
    callbacks.leave = [this](const std::string& id) {
      seen_ = {{"leave", id}};
      return ControlReply{};
    };
    api_ = ControlApi::Start("127.0.0.1", 0, kToken, callbacks, error);
    ASSERT_TRUE(api_) << error;
    client_ = std::make_unique<httplib::Client>("127.0.0.1", api_->Port());
    client_->set_connection_timeout(2);
    client_->set_read_timeout(2);
    client_->set_bearer_token_auth(kToken);
  }

  static constexpr char kToken[] = "c0ffee";

  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<httplib::Client> client_;
  std::atomic<int> quits_{0};
  nlohmann::json seen_;  // what the last engagement callback was given
};

TEST_F(ControlApiTest, StatusHasEveryField) {
  const auto response = client_->Get("/status");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->get_header_value("Content-Type"), "application/json");
  const nlohmann::json expected = {
      {"connected", true},
      {"manager", "127.0.0.1:8081"},
      {"subnets", {"10.96.0.0/12"}},
      {"dns",
       {{"address", "127.0.0.1:5353"},
        {"search", {"default.svc.cluster.local", "svc.cluster.local"}}}},
      {"error", ""},
      {"reconnects", 2},
      {"capture",
       {{"enabled", true},
        {"active", true},
        {"port", 15001},
        {"subnets", {"10.96.0.0/12"}},
        {"error", ""}}},
  };
  EXPECT_EQ(nlohmann::json::parse(response->body), expected);
  EXPECT_EQ(quits_, 0);
}

TEST_F(ControlApiTest, QuitRepliesAndCallsTheCallback) {
  const auto response = client_->Post("/quit", "", "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body), nlohmann::json({{"stopping", true}}));
  EXPECT_EQ(quits_, 1);
}

// What `curl -X POST` sends: no body and no Content-Length. It must not wait for a body.
TEST_F(ControlApiTest, QuitWithoutContentLengthIsAnsweredAtOnce) {
  const auto start = std::chrono::steady_clock::now();
  DialResult dial = DialTcp("127.0.0.1", api_->Port(), start + 2s);
  ASSERT_TRUE(dial.socket.Valid()) << dial.message;
  const std::string request = "POST /quit HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                              std::string(kToken) + "\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(tunnel::WriteAll(
      dial.socket.Get(),
      std::span(reinterpret_cast<const uint8_t*>(request.data()), request.size()), start + 2s));
  std::string answer;
  char buffer[4096];
  while (std::chrono::steady_clock::now() < start + 2s) {
    pollfd waiter{dial.socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(start + 2s)) <= 0) break;
    const ssize_t got = ::recv(dial.socket.Get(), buffer, sizeof buffer, 0);
    if (got <= 0) break;
    answer.append(buffer, static_cast<size_t>(got));
  }
  EXPECT_TRUE(answer.starts_with("HTTP/1.1 200")) << answer;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 500ms);
  EXPECT_EQ(quits_, 1);
}

// A container that reaches the daemon's address must not stop it or engage a workload: without
// the token (or with another one) the routes that change something answer 401 and do nothing.
TEST_F(ControlApiTest, EverythingButStatusNeedsTheToken) {
  for (const char* token : {"", "c0ffe", "c0ffee0", "wrong!"}) {
    httplib::Client other("127.0.0.1", api_->Port());
    other.set_read_timeout(2);
    if (*token != '\0') other.set_bearer_token_auth(token);
    const auto quit = other.Post("/quit");
    ASSERT_TRUE(quit);
    EXPECT_EQ(quit->status, 401) << token;
    EXPECT_EQ(nlohmann::json::parse(quit->body).at("error"),
              "POST /quit needs the daemon's control token; use the telepresence command, which "
              "sends it");
    const auto engage = other.Post("/engagements", R"({"workload":"echo"})", "application/json");
    ASSERT_TRUE(engage);
    EXPECT_EQ(engage->status, 401) << token;
    const auto leave = other.Delete("/engagements/e-1");
    ASSERT_TRUE(leave);
    EXPECT_EQ(leave->status, 401) << token;
    for (const char* path : {"/engagements", "/workloads"}) {
      const auto read = other.Get(path);
      ASSERT_TRUE(read);
      EXPECT_EQ(read->status, 401) << token << " " << path;
      EXPECT_EQ(nlohmann::json::parse(read->body).at("error"),
                std::string("GET ") + path +
                    " needs the daemon's control token; use the telepresence command, which "
                    "sends it");
    }
    const auto status = other.Get("/status");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->status, 200) << token;
  }
  EXPECT_EQ(quits_, 0);
  EXPECT_TRUE(seen_.is_null()) << seen_;
}

TEST_F(ControlApiTest, UnknownPathIsA404WithAJsonError) {
  const auto response = client_->Get("/nothing");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 404);
  const auto body = nlohmann::json::parse(response->body);
  EXPECT_EQ(body.at("error"), "no such endpoint: /nothing");
}

TEST_F(ControlApiTest, WrongMethodIsA405AndDoesNotQuit) {
  const auto response = client_->Get("/quit");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 405);
  EXPECT_TRUE(nlohmann::json::parse(response->body).contains("error"));
  EXPECT_EQ(quits_, 0);
}

TEST_F(ControlApiTest, EngagementBodiesReachTheirCallback) {
  const auto response =
      client_->Post("/engagements", R"({"workload":"echo","mode":"replace"})", "application/json");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(nlohmann::json::parse(response->body), nlohmann::json({{"id", "e-1"}}));
  EXPECT_EQ(seen_, nlohmann::json({{"engage", {{"workload", "echo"}, {"mode", "replace"}}}}));
}

TEST_F(ControlApiTest, PathIdsAndStatusesPassThrough) {
  const auto handler =
      client_->Post("/engagements/e-7/handler", R"({"address":"10.0.0.1"})", "application/json");
  ASSERT_TRUE(handler);
  EXPECT_EQ(handler->status, 409);
  EXPECT_EQ(nlohmann::json::parse(handler->body), nlohmann::json({{"error", "conflict"}}));
  EXPECT_EQ(seen_, nlohmann::json({{"handler", "e-7"}, {"body", {{"address", "10.0.0.1"}}}}));
  const auto deleted = client_->Delete("/engagements/e-7");
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 200);
  EXPECT_EQ(nlohmann::json::parse(deleted->body), nlohmann::json::object());
  EXPECT_EQ(seen_, nlohmann::json({{"leave", "e-7"}}));
}

TEST_F(ControlApiTest, MalformedJsonIsA400WithASentence) {
  const auto broken = client_->Post("/engagements", "{\"workload\":", "application/json");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->status, 400);
  EXPECT_EQ(nlohmann::json::parse(broken->body).at("error"), "the request body is not valid JSON");
  const auto list = client_->Post("/engagements", "[1]", "application/json");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 400);
  EXPECT_EQ(nlohmann::json::parse(list->body).at("error"),
            "the request body must be a JSON object");
  EXPECT_TRUE(seen_.is_null());
}

TEST_F(ControlApiTest, EngagementRoutesWithoutACallbackAnswer503) {
  const auto response = client_->Get("/workloads");
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 503);
  EXPECT_EQ(nlohmann::json::parse(response->body).at("error"),
            "this daemon does not serve engagements");
  const auto wrong_method = client_->Get("/engagements/e-1/handler");
  ASSERT_TRUE(wrong_method);
  EXPECT_EQ(wrong_method->status, 405);
  const auto no_id = client_->Delete("/engagements/");
  ASSERT_TRUE(no_id);
  EXPECT_EQ(no_id->status, 404);
}

// One whole HTTP response (headers and Content-Length bytes of body) read from `socket`, or ""
// when it does not come by `deadline`.
std::string ReadResponse(int socket, std::chrono::steady_clock::time_point deadline) {
  std::string text;
  char buffer[4096];
  while (true) {
    const size_t headers_end = text.find("\r\n\r\n");
    if (headers_end != std::string::npos) {
      const size_t field = text.find("Content-Length: ");
      const size_t length = field < headers_end ? std::stoul(text.substr(field + 16)) : 0;
      if (text.size() >= headers_end + 4 + length) return text;
    }
    pollfd waiter{socket, POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return "";
    const ssize_t got = ::recv(socket, buffer, sizeof buffer, 0);
    if (got <= 0) return "";
    text.append(buffer, static_cast<size_t>(got));
  }
}

// More slow clients than httplib has workers by default (8), each holding one: every client got
// an answer (so a worker serves it), then sent one byte of its next request and stalled, which
// keeps that worker reading for httplib's read timeout (5 s). GET /status still comes back at
// once: the server has more workers than the gate lets connections in.
TEST_F(ControlApiTest, SlowClientsDoNotStarveStatus) {
  // As many as one address may hold but one (the test's own client comes from the same one),
  // more than httplib's default 8 workers.
  constexpr size_t kSlowClients = kControlConnectionsPerPeer - 1;
  static_assert(kSlowClients > 8);
  const std::string request = "GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const auto span = [](const std::string& text) {
    return std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size());
  };
  std::vector<UniqueFd> slow;
  for (size_t i = 0; i < kSlowClients; ++i) {
    const auto deadline = std::chrono::steady_clock::now() + 2s;
    DialResult dial = DialTcp("127.0.0.1", api_->Port(), deadline);
    ASSERT_TRUE(dial.socket.Valid()) << dial.message;
    ASSERT_TRUE(tunnel::WriteAll(dial.socket.Get(), span(request), deadline));
    ASSERT_TRUE(ReadResponse(dial.socket.Get(), deadline).starts_with("HTTP/1.1 200"))
        << "slow client " << i << " got no answer to its first request";
    ASSERT_TRUE(tunnel::WriteAll(dial.socket.Get(), span("G"), deadline));
    slow.push_back(std::move(dial.socket));
  }
  const auto start = std::chrono::steady_clock::now();
  const auto response = client_->Get("/status");
  ASSERT_TRUE(response) << "GET /status was not answered while slow clients were connected";
  EXPECT_EQ(response->status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
}

TEST(ControlApi, BusyPortIsAnError) {
  std::string error;
  auto first = ControlApi::Start("127.0.0.1", 0, "", {}, error);
  ASSERT_TRUE(first) << error;
  EXPECT_FALSE(ControlApi::Start("127.0.0.1", first->Port(), "", {}, error));
  EXPECT_NE(error.find("cannot listen"), std::string::npos);
}

}  // namespace
}  // namespace tp::daemon
