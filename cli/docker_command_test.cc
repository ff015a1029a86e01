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

TEST(DaemonContainerSpecTest, WhatDockerRunWouldGetAndNothingMore) {
  DaemonContainerOptions options = DemoOptions();
  options.control_token = "3f9a";
  Result<docker::ContainerSpec> spec = DaemonContainerSpec(options);
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  EXPECT_EQ(FormatArgvForDisplay(RunArgvForDisplay(spec.value(), /*detached=*/true)),
            "docker run -d --rm --pull never --name tp-default-cn --label tp.daemon=default "
            "--cap-add NET_ADMIN -e TP_CONTROL_TOKEN -p 127.0.0.1::8787 -v "
            "/root/.config/telepresence-docker/demo-secret:/run/secrets/tp-daemon-secret:ro "
            "tp-daemon:latest --manager 127.0.0.1:40123 --secret-file "
            "/run/secrets/tp-daemon-secret --control 0.0.0.0:8787 --dns 0.0.0.0:53 --name default "
            "--write-resolv-conf");
  EXPECT_EQ(spec.value().env, std::vector<std::string>{"TP_CONTROL_TOKEN=3f9a"});
  EXPECT_TRUE(spec.value().auto_remove);
  EXPECT_FALSE(spec.value().init);
  EXPECT_TRUE(spec.value().devices.empty());
  EXPECT_EQ(spec.value().restart_policy, "");
}

TEST(DaemonContainerSpecTest, Ipv6IsTurnedOnOnlyWhenAsked) {
  DaemonContainerOptions options = DemoOptions();
  EXPECT_TRUE(DaemonContainerSpec(options).value().sysctls.empty());
  options.enable_ipv6 = true;
  Result<docker::ContainerSpec> spec = DaemonContainerSpec(options);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().sysctls,
            (std::map<std::string, std::string>{{"net.ipv6.conf.all.disable_ipv6", "0"}}));
  EXPECT_CONTAINS(FormatArgvForDisplay(RunArgvForDisplay(spec.value(), /*detached=*/true)),
                  "--cap-add NET_ADMIN --sysctl net.ipv6.conf.all.disable_ipv6=0 -p");
}

TEST(DaemonContainerSpecTest, TunDeviceAndResolvConfOnlyWhenAsked) {
  DaemonContainerOptions options = DemoOptions();
  options.add_tun_device = true;
  options.write_resolv_conf = false;
  Result<docker::ContainerSpec> spec = DaemonContainerSpec(options);
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().devices, std::vector<std::string>{"/dev/net/tun"});
  EXPECT_EQ(spec.value().cmd.back(), "default");
  EXPECT_TRUE(spec.value().env.empty()) << "no token given";
}

TEST(DaemonContainerSpecTest, OnDockersDefaultBridgeNeverPrivilegedControlPortOnLoopback) {
  Result<docker::ContainerSpec> spec = DaemonContainerSpec(DemoOptions());
  ASSERT_TRUE(spec.ok());
  EXPECT_EQ(spec.value().network_mode, "");
  EXPECT_EQ(spec.value().cap_add, std::vector<std::string>{"NET_ADMIN"});
  ASSERT_EQ(spec.value().ports.size(), 1u);
  EXPECT_EQ(spec.value().ports[0].container_port, "8787/tcp");
  EXPECT_EQ(spec.value().ports[0].host_ip, "127.0.0.1");
  EXPECT_EQ(spec.value().ports[0].host_port, "");
}

TEST(DaemonContainerSpecTest, RejectsBadInput) {
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
    Result<docker::ContainerSpec> spec = DaemonContainerSpec(options);
    ASSERT_FALSE(spec.ok()) << test_case.key_words;
    EXPECT_CONTAINS(spec.error().message, test_case.key_words);
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

TEST(OutputLinesTest, NonEmptyLinesTrimmed) {
  EXPECT_EQ(OutputLines(" a \n\n\tb\r\n"), (std::vector<std::string>{"a", "b"}));
}

docker::ContainerInfo DaemonWithPorts(std::vector<docker::PortBinding> ports,
                                      std::vector<std::string> env) {
  return {.name = "tp-default-cn", .env = std::move(env), .published_ports = std::move(ports)};
}

TEST(ControlEndpointOfTest, IsTheLoopbackPortAndTheToken) {
  Result<DaemonEndpoint> endpoint = ControlEndpointOf(DaemonWithPorts(
      {{"8787/tcp", "127.0.0.1", "49153"}}, {"TP_CONTROL_TOKEN=3f9a", "PATH=/usr/bin"}));
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
  EXPECT_EQ(endpoint.value().port, 49153);
  EXPECT_EQ(endpoint.value().token, "3f9a");
  endpoint = ControlEndpointOf(DaemonWithPorts(
      {{"8787/tcp", "0.0.0.0", "1"}, {"8787/tcp", "127.0.0.1", "2"}}, {"PATH=/usr/bin"}));
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
  EXPECT_EQ(endpoint.value().port, 2);
  EXPECT_EQ(endpoint.value().token, "") << "a daemon without a token";
  for (const char* bad_port : {"0", "70000", "1y", ""}) {
    Result<DaemonEndpoint> parsed =
        ControlEndpointOf(DaemonWithPorts({{"8787/tcp", "127.0.0.1", bad_port}}, {}));
    ASSERT_FALSE(parsed.ok()) << bad_port;
    EXPECT_CONTAINS(parsed.error().message, "control port 8787/tcp");
  }
  Result<DaemonEndpoint> unpublished =
      ControlEndpointOf(DaemonWithPorts({{"53/udp", "127.0.0.1", "53"}}, {}));
  ASSERT_FALSE(unpublished.ok());
}

TEST(FormatArgvForDisplayTest, QuotesOnlyWhatAShellWouldSplitOrExpand) {
  EXPECT_EQ(FormatArgvForDisplay({"docker", "run", "-p", "127.0.0.1::8787", "a b", "it's", ""}),
            "docker run -p 127.0.0.1::8787 'a b' 'it'\\''s' ''");
  EXPECT_EQ(FormatArgvForDisplay({"$(id)"}), "'$(id)'");
}

}  // namespace
}  // namespace tp::cli
