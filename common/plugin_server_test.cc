#include "common/plugin_server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

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
  constexpr size_t kDepth = 512 * 1024;
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
