#include "cli/docker_command.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tp::cli {
namespace {

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

DaemonContainerOptions DemoOptions() {
  return {.context_name = "default",
          .manager_address = "127.0.0.1:40123",
          .secret_file = "/root/.config/telepresence-docker/demo-secret",
          .network = "tp-demo"};
}

TEST(DaemonRunCommandTest, ExactArgv) {
  Result<Argv> argv = DaemonRunCommand(DemoOptions());
  ASSERT_TRUE(argv.ok()) << argv.error().message;
  EXPECT_EQ(argv.value(),
            (Argv{"docker",
                  "run",
                  "--rm",
                  "-d",
                  "--pull",
                  "never",
                  "--name",
                  "tp-default-cn",
                  "--label",
                  "tp.daemon=default",
                  "--cap-add",
                  "NET_ADMIN",
                  "--network",
                  "tp-demo",
                  "-p",
                  "127.0.0.1::8787",
                  "-v",
                  "/root/.config/telepresence-docker/demo-secret:/run/secrets/tp-daemon-secret:ro",
                  "tp-daemon:latest",
                  "--manager",
                  "127.0.0.1:40123",
                  "--secret-file",
                  "/run/secrets/tp-daemon-secret",
                  "--control",
                  "0.0.0.0:8787",
                  "--dns",
                  "0.0.0.0:53",
                  "--name",
                  "default"}));
}

TEST(DaemonRunCommandTest, TunDeviceOnlyWhenAskedAndNoNetworkWhenEmpty) {
  DaemonContainerOptions options = DemoOptions();
  options.add_tun_device = true;
  options.network = "";
  Result<Argv> argv = DaemonRunCommand(options);
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(Argv(argv.value().begin() + 10, argv.value().begin() + 16),
            (Argv{"--cap-add", "NET_ADMIN", "--device", "/dev/net/tun", "-p", "127.0.0.1::8787"}));
  EXPECT_EQ(std::count(argv.value().begin(), argv.value().end(), "--network"), 0);
}

TEST(DaemonRunCommandTest, NeverPrivilegedAndControlPortOnLoopbackOnly) {
  Result<Argv> argv = DaemonRunCommand(DemoOptions());
  ASSERT_TRUE(argv.ok());
  for (const std::string& word : argv.value()) {
    EXPECT_EQ(word.find("privileged"), std::string::npos);
    if (word.find("8787") != std::string::npos && word.rfind("0.0.0.0", 0) != 0) {
      EXPECT_EQ(word, "127.0.0.1::8787");
    }
  }
}

TEST(DaemonRunCommandTest, RejectsBadInput) {
  struct Case {
    void (*change)(DaemonContainerOptions&);
    const char* key_words;
  };
  const Case cases[] = {
      {[](DaemonContainerOptions& o) { o.context_name = "Bad_Name"; }, "invalid context name"},
      {[](DaemonContainerOptions& o) { o.manager_address = "nope"; }, "HOST:PORT"},
      {[](DaemonContainerOptions& o) { o.secret_file = "relative"; }, "absolute path"},
      {[](DaemonContainerOptions& o) { o.secret_file = "/a:b"; }, "without ':'"},
      {[](DaemonContainerOptions& o) { o.network = "bad net"; }, "invalid Docker network name"},
      {[](DaemonContainerOptions& o) { o.image = ""; }, "no daemon image"},
  };
  for (const Case& test_case : cases) {
    DaemonContainerOptions options = DemoOptions();
    test_case.change(options);
    Result<Argv> argv = DaemonRunCommand(options);
    ASSERT_FALSE(argv.ok()) << test_case.key_words;
    EXPECT_CONTAINS(argv.error().message, test_case.key_words);
  }
}

TEST(CurlRunCommandTest, ExactArgvWithUserWordsUntouched) {
  Result<Argv> argv = CurlRunCommand("dev", {"-sS", "http://echo.default:8080/$(id)", "; rm x"});
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(argv.value(),
            (Argv{"docker", "run", "--rm", "--pull", "never", "--network", "container:tp-dev-cn",
                  "tp-curl:latest", "curl", "-sS", "http://echo.default:8080/$(id)", "; rm x"}));
}

TEST(CurlRunCommandTest, RejectsBadContextAndMissingUrl) {
  Result<Argv> bad_name = CurlRunCommand("x/y", {"http://a"});
  ASSERT_FALSE(bad_name.ok());
  EXPECT_CONTAINS(bad_name.error().message, "invalid context name 'x/y'");
  Result<Argv> no_url = CurlRunCommand("dev", {});
  ASSERT_FALSE(no_url.ok());
  EXPECT_CONTAINS(no_url.error().message, "needs at least a URL");
}

TEST(DaemonContainerNameTest, FollowsTheContext) {
  EXPECT_EQ(DaemonContainerName("default"), "tp-default-cn");
}

TEST(FormatArgvForDisplayTest, QuotesOnlyWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(FormatArgvForDisplay({"docker", "run", "-p", "127.0.0.1::8787", "a b", "it's", ""}),
            "docker run -p 127.0.0.1::8787 'a b' 'it'\\''s' ''");
  EXPECT_EQ(FormatArgvForDisplay({"$(id)"}), "'$(id)'");
}

}  // namespace
}  // namespace tp::cli
