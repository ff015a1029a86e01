#include "cli/docker_command.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tp::cli {
namespace {

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

DaemonContainerOptions DemoOptions() {
  return {.context_name = "default",
          .manager_address = "127.0.0.1:40123",
          .secret_file = "/root/.config/telepresence-docker/demo-secret"};
}

TEST(DaemonRunCommandTest, ExactArgv) {
  Result<Argv> argv = DaemonRunCommand(DemoOptions());
  ASSERT_TRUE(argv.ok()) << argv.error().message;
  EXPECT_EQ(argv.value(),
            (Argv{"docker",
                  "run",
                  "-d",
                  "--rm",
                  "--pull",
                  "never",
                  "--name",
                  "tp-default-cn",
                  "--label",
                  "tp.daemon=default",
                  "--cap-add",
                  "NET_ADMIN",
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
                  "default",
                  "--write-resolv-conf"}));
}

TEST(DaemonRunCommandTest, TunDeviceAndResolvConfOnlyWhenAsked) {
  DaemonContainerOptions options = DemoOptions();
  options.add_tun_device = true;
  options.write_resolv_conf = false;
  Result<Argv> argv = DaemonRunCommand(options);
  ASSERT_TRUE(argv.ok());
  EXPECT_EQ(Argv(argv.value().begin() + 10, argv.value().begin() + 16),
            (Argv{"--cap-add", "NET_ADMIN", "--device", "/dev/net/tun", "-p", "127.0.0.1::8787"}));
  EXPECT_EQ(argv.value().back(), "default");
}

TEST(DaemonRunCommandTest, AlwaysOnDockersDefaultBridge) {
  Result<Argv> argv = DaemonRunCommand(DemoOptions());
  ASSERT_TRUE(argv.ok());
  for (const std::string& word : argv.value()) {
    EXPECT_EQ(word.find("--network"), std::string::npos);
    EXPECT_EQ(word.find("--net="), std::string::npos);
  }
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
  EXPECT_EQ(argv.value(), (Argv{"docker", "run", "--rm", "-i", "--init", "--pull", "never",
                                "--network", "container:tp-dev-cn", "tp-curl:latest", "curl", "-sS",
                                "http://echo.default:8080/$(id)", "; rm x"}));
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

TEST(QueryCommandsTest, ExactArgv) {
  EXPECT_EQ(
      ContainerStateCommand("tp-default-cn"),
      (Argv{"docker", "ps", "-a", "--filter", "name=^tp-default-cn$", "--format", "{{.State}}"}));
  EXPECT_EQ(ImageIdCommand("tp-daemon:latest"),
            (Argv{"docker", "image", "ls", "-q", "tp-daemon:latest"}));
  EXPECT_EQ(
      ControlEndpointCommand("tp-default-cn"),
      (Argv{"docker", "inspect", "--type", "container", "--format",
            R"({{json .NetworkSettings.Ports}}{{"\n"}}{{json .Config.Env}})", "tp-default-cn"}));
  EXPECT_EQ(
      ListLabelledCommand(DockerResource::kContainer, ContextLabel("dev")),
      (Argv{"docker", "ps", "-a", "--filter", "label=tp.daemon=dev", "--format", "{{.Names}}"}));
  EXPECT_EQ(ListLabelledCommand(DockerResource::kNetwork, "tp.daemon=dev"),
            (Argv{"docker", "network", "ls", "--filter", "label=tp.daemon=dev", "--format",
                  "{{.Name}}"}));
  EXPECT_EQ(
      ListLabelledCommand(DockerResource::kVolume, "tp.daemon=dev"),
      (Argv{"docker", "volume", "ls", "--filter", "label=tp.daemon=dev", "--format", "{{.Name}}"}));
  EXPECT_EQ(RemoveCommand(DockerResource::kContainer, {"a", "b"}),
            (Argv{"docker", "rm", "-f", "a", "b"}));
  EXPECT_EQ(RemoveCommand(DockerResource::kNetwork, {"n"}), (Argv{"docker", "network", "rm", "n"}));
  EXPECT_EQ(RemoveCommand(DockerResource::kVolume, {"v"}),
            (Argv{"docker", "volume", "rm", "-f", "v"}));
}

TEST(OutputParsersTest, LinesStateAndPort) {
  EXPECT_EQ(OutputLines(" a \n\n\tb\r\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ParseContainerState("running\n"), "running");
  EXPECT_EQ(ParseContainerState("\n"), std::nullopt);
}

// What docker inspect prints for ControlEndpointCommand (taken from a real daemon container).
TEST(OutputParsersTest, ControlEndpointIsTheLoopbackPortAndTheToken) {
  Result<DaemonEndpoint> endpoint = ParseControlEndpoint(
      R"({"53/udp":null,"8787/tcp":[{"HostIp":"127.0.0.1","HostPort":"49153"}]})"
      "\n"
      R"(["TP_CONTROL_TOKEN=3f9a","PATH=/usr/bin"])"
      "\n");
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
  EXPECT_EQ(endpoint.value().port, 49153);
  EXPECT_EQ(endpoint.value().token, "3f9a");
  endpoint = ParseControlEndpoint(
      R"({"8787/tcp":[{"HostIp":"0.0.0.0","HostPort":"1"},{"HostIp":"127.0.0.1","HostPort":"2"}]})"
      "\n"
      R"(["PATH=/usr/bin"])");
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
  EXPECT_EQ(endpoint.value().port, 2);
  EXPECT_EQ(endpoint.value().token, "") << "a daemon without a token";
  for (const char* bad : {"", "{}\n[]",
                          R"({"8787/tcp":null})"
                          "\n[]",
                          R"({"8787/tcp":[]})"
                          "\n[]",
                          R"({"8787/tcp":[{"HostIp":"127.0.0.1","HostPort":"0"}]})"
                          "\n[]",
                          R"({"8787/tcp":[{"HostIp":"127.0.0.1","HostPort":"70000"}]})"
                          "\n[]",
                          R"({"8787/tcp":[{"HostIp":"127.0.0.1","HostPort":"1y"}]})"
                          "\n[]",
                          "not json\n[]"}) {
    Result<DaemonEndpoint> parsed = ParseControlEndpoint(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("cannot read the daemon's control port 8787/tcp"),
              std::string::npos);
  }
}

TEST(FormatArgvForDisplayTest, QuotesOnlyWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(FormatArgvForDisplay({"docker", "run", "-p", "127.0.0.1::8787", "a b", "it's", ""}),
            "docker run -p 127.0.0.1::8787 'a b' 'it'\\''s' ''");
  EXPECT_EQ(FormatArgvForDisplay({"$(id)"}), "'$(id)'");
}

}  // namespace
}  // namespace tp::cli
