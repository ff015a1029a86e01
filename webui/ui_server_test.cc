// UiServer over real HTTP on 127.0.0.1, with a recording driver: who gets in, how requests reach
// the driver, the event stream, the page's files and the headers of every answer.
#include "webui/ui_server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace tp::webui {
namespace {

using std::chrono::milliseconds;

const std::string kToken = "0123456789abcdef0123456789abcdef";

class RecordingDriver : public UiDriver {
 public:
  UiReply Contexts() override { return Record("contexts", ""); }
  UiReply Status(const std::string& context) override { return Record("status", context); }
  UiReply Connect(const std::string& context) override { return Record("connect", context); }
  UiReply Quit(const std::string& context) override { return Record("quit", context); }
  UiReply Workloads(const std::string& context) override { return Record("workloads", context); }
  UiReply Images() override { return Record("images", ""); }
  UiReply Engage(const EngageForm& form) override {
    return Record("engage", form.workload + " " + form.docker_args.at(1));
  }
  UiReply Engagements(const std::string& context) override {
    return Record("engagements", context);
  }
  UiReply Leave(const std::string& context, const std::string& id) override {
    return Record("leave", context + " " + id);
  }
  UiReply DockerRun(const DockerRunForm& form) override { return Record("docker-run", form.image); }
  UiReply StopContainer(const std::string& container) override { return Record("stop", container); }

  std::vector<std::string> calls() {
    MutexLock lock(mutex_);
    return calls_;
  }

 private:
  UiReply Record(const std::string& call, const std::string& argument) {
    MutexLock lock(mutex_);
    calls_.push_back(call + "(" + argument + ")");
    return UiReply{200, {{"call", call}}};
  }

  Mutex mutex_;
  std::vector<std::string> calls_ GUARDED_BY(mutex_);
};

constexpr std::string_view kIndex = "<!doctype html><title>ui</title>";
const Asset kAssets[] = {{"/index.html", kIndex}, {"/assets/app.js", "console.log(1)"}};

class UiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    ASSERT_TRUE(server_.Listen(0, kToken, error)) << error;
    server_.Start();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_.port());
    client_->set_read_timeout(5, 0);
  }

  httplib::Headers SignedIn(httplib::Headers headers = {}) {
    headers.emplace("Cookie", "tp_ui=" + kToken);
    return headers;
  }
  httplib::Headers FromThePage() {
    return SignedIn({{"Origin", "http://127.0.0.1:" + std::to_string(server_.port())}});
  }

  RecordingDriver driver_;
  EventHub events_;
  UiServer server_{driver_, events_, AssetTable(kAssets)};
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(UiServerTest, TheTokenInTheAddressBecomesAnHttpOnlyStrictCookie) {
  httplib::Result result = client_->Get("/?token=" + kToken);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 303);
  EXPECT_EQ(result->get_header_value("Location"), "/");
  EXPECT_EQ(result->get_header_value("Set-Cookie"),
            "tp_ui=" + kToken + "; HttpOnly; SameSite=Strict; Path=/");
  httplib::Result page = client_->Get("/", SignedIn());
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, kIndex);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
}

TEST_F(UiServerTest, WithoutTheSecretNothingIsServedAndTheDriverIsNotCalled) {
  for (const char* path : {"/", "/index.html", "/assets/app.js", "/api/status", "/api/events"}) {
    httplib::Result result = client_->Get(path);
    ASSERT_TRUE(result) << path;
    EXPECT_EQ(result->status, 401) << path;
    EXPECT_EQ(result->body.find("console.log"), std::string::npos);
    EXPECT_EQ(result->body.find("<title>"), std::string::npos);
  }
  httplib::Result wrong = client_->Get("/?token=ffffffffffffffffffffffffffffffff");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_FALSE(wrong->has_header("Set-Cookie"));
  httplib::Result post = client_->Post("/api/connect", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);
  EXPECT_NE(post->body.find("telepresence ui"), std::string::npos);
  EXPECT_TRUE(driver_.calls().empty());
}

TEST_F(UiServerTest, AForeignHostGetsNothingEvenWithTheSecret) {
  httplib::Result result = client_->Get("/api/status", SignedIn({{"Host", "evil.example:7670"}}));
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 403);
  httplib::Result token = client_->Get("/?token=" + kToken, {{"Host", "rebound.example"}});
  ASSERT_TRUE(token);
  EXPECT_EQ(token->status, 403);
  EXPECT_FALSE(token->has_header("Set-Cookie"));
  EXPECT_TRUE(driver_.calls().empty());
}

TEST_F(UiServerTest, AnotherSitesOriginAndAFormPostChangeNothing) {
  httplib::Headers foreign = SignedIn({{"Origin", "http://evil.example"}});
  httplib::Result post = client_->Post("/api/quit", foreign, "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 403);
  httplib::Result deleted = client_->Delete("/api/engagements/e-1", foreign);
  ASSERT_TRUE(deleted);
  EXPECT_EQ(deleted->status, 403);
  httplib::Result form = client_->Post("/api/quit", SignedIn(), "context=default",
                                       "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 415);
  EXPECT_TRUE(driver_.calls().empty());
}

TEST_F(UiServerTest, RequestsReachTheDriverDecoded) {
  httplib::Result status = client_->Get("/api/status?context=staging", SignedIn());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 200);
  EXPECT_EQ(status->body, "{\"call\":\"status\"}\n");
  ASSERT_TRUE(client_->Post("/api/connect", FromThePage(), "", "application/json"));
  ASSERT_TRUE(client_->Post("/api/engagements", FromThePage(),
                            R"json({"workload":"echo","mode":"replace","image":"x",
                               "docker_args":["-e","A=$(reboot)"]})json",
                            "application/json"));
  ASSERT_TRUE(client_->Delete("/api/engagements/e-42?context=c2", FromThePage()));
  EXPECT_EQ(driver_.calls(),
            (std::vector<std::string>{"status(staging)", "connect(default)",
                                      "engage(echo A=$(reboot))", "leave(c2 e-42)"}));
}

TEST_F(UiServerTest, ABadBodyIsA400ThatNamesTheField) {
  httplib::Result result =
      client_->Post("/api/engagements", FromThePage(), R"({"workload":"echo","mode":"replace"})",
                    "application/json");
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status, 400);
  EXPECT_EQ(nlohmann::json::parse(result->body)["error"],
            "give either \"image\" or \"build_folder\", not both or neither");
  httplib::Result huge = client_->Post("/api/connect", FromThePage(),
                                       std::string(kMaxBodyBytes + 1, ' '), "application/json");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 413);
  EXPECT_TRUE(driver_.calls().empty());
}

TEST_F(UiServerTest, EveryAnswerForbidsCachingFramingAndSniffingAndHasNoCors) {
  for (const char* path : {"/", "/api/status", "/nowhere"}) {
    for (bool signed_in : {true, false}) {
      httplib::Result result = client_->Get(path, signed_in ? SignedIn() : httplib::Headers{});
      ASSERT_TRUE(result) << path;
      EXPECT_EQ(result->get_header_value("Cache-Control"), "no-store") << path;
      EXPECT_EQ(result->get_header_value("X-Frame-Options"), "DENY") << path;
      EXPECT_EQ(result->get_header_value("X-Content-Type-Options"), "nosniff") << path;
      EXPECT_NE(result->get_header_value("Content-Security-Policy").find("default-src 'self'"),
                std::string::npos);
      EXPECT_FALSE(result->has_header("Access-Control-Allow-Origin")) << path;
    }
  }
}

TEST_F(UiServerTest, TheEventStreamCarriesPublishedEvents) {
  std::string received;
  std::atomic<bool> got_it{false};
  std::thread publisher([&] {
    // Publish until the stream has subscribed and taken one event, at most 5 s.
    for (int i = 0; i < 500 && !got_it; ++i) {
      events_.Publish("progress", {{"line", "hello"}});
      std::this_thread::sleep_for(milliseconds(10));
    }
  });
  httplib::Result result =
      client_->Get("/api/events", SignedIn(), [&](const char* data, size_t length) {
        received.append(data, length);
        got_it = received.find("hello") != std::string::npos;
        return !got_it;  // stop once it came
      });
  publisher.join();
  EXPECT_NE(received.find("event: progress\ndata: {\"line\":\"hello\"}\n\n"), std::string::npos)
      << received;
}

TEST_F(UiServerTest, StopEndsAnOpenEventStream) {
  std::thread stopper([&] {
    std::this_thread::sleep_for(milliseconds(100));
    server_.Stop();
  });
  const auto start = std::chrono::steady_clock::now();
  client_->Get("/api/events", SignedIn());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace tp::webui
