#include "common/plugin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "net/http_head.h"
#include "net/unique_fd.h"

namespace tp {
namespace {

struct HttpReply {
  int status = 0;
  nlohmann::json body;
};

// Sends one HTTP/1.1 POST over the Unix socket the way dockerd does and reads the whole reply.
HttpReply Post(const std::string& socket_path, const std::string& method, const std::string& body) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return {};
  const std::string request = "POST /" + method +
                              " HTTP/1.1\r\nHost: plugin\r\nConnection: close\r\n"
                              "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::write(fd.Get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    return {};
  }
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.Get(), buffer, sizeof(buffer))) > 0) raw.append(buffer, n);
  HttpReply reply;
  if (raw.size() < 12) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  auto body_start = raw.find("\r\n\r\n");
  if (body_start != std::string::npos) {
    reply.body = nlohmann::json::parse(raw.substr(body_start + 4), nullptr, false);
  }
  return reply;
}

class PluginServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("plugin-server-test-" + std::to_string(::getpid()));
    socket_ = (dir_ / "sub" / "test.sock").string();
    server_ = std::make_unique<PluginServer>(socket_, std::vector<std::string>{"VolumeDriver"});
    server_->AddRoutes({
        {"Test.Echo", [](const nlohmann::json& request) { return request; }},
        {"Test.Name",
         [](const nlohmann::json& request) {
           return nlohmann::json{{"Name", RequireString(request, "Name")}};
         }},
    });
    server_->Start();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<PluginServer> server_;
};

TEST_F(PluginServerTest, ActivateListsImplementedInterfaces) {
  HttpReply reply = Post(socket_, "Plugin.Activate", "");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, (nlohmann::json{{"Implements", {"VolumeDriver"}}}));
}

TEST_F(PluginServerTest, HandlerReceivesBodyAndRepliesJson) {
  HttpReply reply = Post(socket_, "Test.Echo",
                         R"({"Name":"v"})"
                         "\n");
  EXPECT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body["Name"], "v");
}

TEST_F(PluginServerTest, MalformedBodyGetsErrAndServerKeepsServing) {
  HttpReply bad = Post(socket_, "Test.Echo", "{not json");
  EXPECT_EQ(bad.status, 400);
  EXPECT_TRUE(bad.body["Err"].is_string());
  HttpReply array = Post(socket_, "Test.Echo", "[1,2]");
  EXPECT_EQ(array.status, 400);
  HttpReply good = Post(socket_, "Test.Echo", "{}");
  EXPECT_EQ(good.status, 200);
}

TEST_F(PluginServerTest, MissingOrMistypedFieldNamesTheField) {
  HttpReply missing = Post(socket_, "Test.Name", "{}");
  EXPECT_EQ(missing.status, 500);
  EXPECT_NE(missing.body["Err"].get<std::string>().find("Name"), std::string::npos);
  HttpReply mistyped = Post(socket_, "Test.Name", R"({"Name":42})");
  EXPECT_NE(mistyped.body["Err"].get<std::string>().find("must be a string"), std::string::npos);
}

TEST_F(PluginServerTest, UnknownMethodGetsErr) {
  HttpReply reply = Post(socket_, "VolumeDriver.Nope", "{}");
  EXPECT_EQ(reply.status, 404);
  EXPECT_TRUE(reply.body["Err"].is_string());
}

// A path that is not UTF-8 cannot go into JSON as it is: the reply says so with the bytes
// replaced, and the plugin keeps serving (it used to end on the exception).
TEST_F(PluginServerTest, ANonUtf8PathGetsErrAndTheServerKeepsServing) {
  HttpReply reply = Post(socket_, "VolumeDriver.\xff\xfe\xc3(", "{}");
  EXPECT_EQ(reply.status, 404);
  ASSERT_TRUE(reply.body["Err"].is_string()) << reply.body;
  EXPECT_NE(reply.body["Err"].get<std::string>().find("unknown plugin method"), std::string::npos);
  HttpReply echoed = Post(socket_, "Test.Echo", R"({"Name":"still here"})");
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body["Name"], "still here");
}

TEST(AnswerPluginCallTest, AnswersWhatTheServerWouldWithoutHttp) {
  const PluginRoute name{"Test.Name", [](const nlohmann::json& request) {
                           return nlohmann::json{{"Name", RequireString(request, "Name")}};
                         }};
  EXPECT_EQ(AnswerPluginCall(name, R"({"Name":"v"})").body, "{\"Name\":\"v\"}\n");
  const PluginAnswer missing = AnswerPluginCall(name, "");
  EXPECT_EQ(missing.status, 500);
  EXPECT_EQ(missing.body, "{\"Err\":\"missing field \\\"Name\\\"\"}\n");
  EXPECT_EQ(AnswerPluginCall(name, "[1]").status, 400);
}

// Found by fuzz/fuzz_volume_request (fuzz/corpus/fuzz_volume_request/crash-deep-nesting): a
// body nested 20000 levels deep overflowed the stack of the thread serving it while it was
// printed for the debug log, ending the plugin. Deep bodies are refused before anything walks
// them.
TEST_F(PluginServerTest, ADeeplyNestedBodyGetsErrAndTheServerKeepsServing) {
  constexpr size_t kDepth = 256 * 1024;  // a body of 512 KiB, under kMaxPluginBodyBytes
  const std::string deep =
      R"({"Name":)" + std::string(kDepth, '[') + std::string(kDepth, ']') + "}";
  HttpReply reply = Post(socket_, "Test.Echo", deep);
  EXPECT_EQ(reply.status, 400);
  ASSERT_TRUE(reply.body["Err"].is_string()) << reply.body;
  EXPECT_NE(reply.body["Err"].get<std::string>().find("deeper than"), std::string::npos);
  HttpReply echoed = Post(socket_, "Test.Echo", R"({"Name":"still here"})");
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body["Name"], "still here");
}

// Sends `request` as it is over the Unix socket and returns everything read until the server
// closes (or 5 s pass).
std::string Exchange(const std::string& socket_path, const std::string& request) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return "";
  timeval timeout{5, 0};
  ::setsockopt(fd.Get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  if (::send(fd.Get(), request.data(), request.size(), MSG_NOSIGNAL) < 0) return "";
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.Get(), buffer, sizeof(buffer))) > 0) raw.append(buffer, n);
  return raw;
}

TEST_F(PluginServerTest, OneConnectionCarriesManyRequestsAsDockerdKeepsThemAlive) {
  const std::string call =
      "POST /Test.Echo HTTP/1.1\r\nHost: plugin\r\nContent-Length: 10\r\n\r\n{\"Name\":1}";
  const std::string last =
      "POST /Plugin.Activate HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  const std::string raw = Exchange(socket_, call + call + last);
  size_t answers = 0;
  for (size_t at = raw.find("HTTP/1.1 200 OK"); at != std::string::npos;
       at = raw.find("HTTP/1.1 200 OK", at + 1)) {
    ++answers;
  }
  EXPECT_EQ(answers, 3u) << raw;
  EXPECT_NE(raw.find("{\"Name\":1}"), std::string::npos) << raw;
  EXPECT_NE(raw.find("\"Implements\""), std::string::npos) << raw;
}

TEST_F(PluginServerTest, BadRequestsGetErrAndTheServerKeepsServing) {
  const std::pair<std::string, std::string> cases[] = {
      {"GARBAGE\r\n\r\n", "HTTP/1.1 400 "},
      {"GET /Test.Echo HTTP/1.1\r\nConnection: close\r\n\r\n", "HTTP/1.1 405 "},
      {"POST /Test.Echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
       "HTTP/1.1 501 "},
      {"POST /Test.Echo HTTP/1.1\r\nContent-Length: " + std::to_string(kMaxPluginBodyBytes + 1) +
           "\r\n\r\n" + std::string(kMaxPluginBodyBytes + 1, ' '),
       "HTTP/1.1 413 "},
      {"POST /Test.Echo HTTP/1.1\r\nX: " + std::string(kMaxHttpHeadBytes, 'x') + "\r\n\r\n",
       "HTTP/1.1 400 "},
  };
  for (const auto& [request, status_line] : cases) {
    const std::string raw = Exchange(socket_, request);
    EXPECT_EQ(raw.substr(0, status_line.size()), status_line) << request.substr(0, 60);
    const auto body = nlohmann::json::parse(raw.substr(raw.find("\r\n\r\n") + 4), nullptr, false);
    EXPECT_TRUE(body.is_object() && body["Err"].is_string()) << raw;
  }
  HttpReply echoed = Post(socket_, "Test.Echo", R"({"Name":"still here"})");
  EXPECT_EQ(echoed.status, 200);
  EXPECT_EQ(echoed.body["Name"], "still here");
}

UniqueFd ConnectUnix(const std::string& socket_path) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return {};
  return fd;
}

TEST_F(PluginServerTest, IdleConnectionsBeyondTheCapAreClosedAndServingGoesOn) {
  std::vector<UniqueFd> idle;
  for (size_t i = 0; i < kMaxPluginConnections; ++i) {
    idle.push_back(ConnectUnix(socket_));
    ASSERT_TRUE(idle.back().Valid());
  }
  // Each is served by now once a request on it is answered: the last proves the others taken.
  const std::string activate = "POST /Plugin.Activate HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
  ASSERT_GT(::send(idle.back().Get(), activate.data(), activate.size(), MSG_NOSIGNAL), 0);
  char buffer[512];
  ASSERT_GT(::read(idle.back().Get(), buffer, sizeof buffer), 0);
  UniqueFd one_more = ConnectUnix(socket_);
  ASSERT_TRUE(one_more.Valid());
  timeval timeout{5, 0};
  ::setsockopt(one_more.Get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  EXPECT_EQ(::read(one_more.Get(), buffer, sizeof buffer), 0) << "not closed by the server";
  idle.clear();  // their threads end as they see the connections close
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int status = 0;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = Post(socket_, "Test.Echo", "{}").status;
    if (status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status, 200);
}

TEST_F(PluginServerTest, AStalledPeerDoesNotHoldStop) {
  // A connection that sent half a head: Stop ends it rather than waiting for the rest.
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_.c_str(), sizeof(address.sun_path) - 1);
  ASSERT_EQ(::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_GT(::send(fd.Get(), "POST /Test.Echo HTTP/1.1\r\n", 26, MSG_NOSIGNAL), 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let it be accepted
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

TEST(AnswerPluginCallTest, RefusesBodiesNestedDeeperThanDockersAndNothingElse) {
  const PluginRoute echo{"Test.Echo", [](const nlohmann::json& request) { return request; }};
  auto nested = [](int depth) {
    return R"({"Name":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  EXPECT_EQ(AnswerPluginCall(echo, nested(20)).status, 200);
  const PluginAnswer deep = AnswerPluginCall(echo, nested(20000));
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(deep.body, "{\"Err\":\"Test.Echo: request body nests deeper than 32 levels\"}\n");
}

TEST_F(PluginServerTest, StopRemovesSocketFile) {
  server_->Stop();
  EXPECT_FALSE(std::filesystem::exists(socket_));
}

}  // namespace
}  // namespace tp
