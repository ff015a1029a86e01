#include "cli/daemon_status.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using nlohmann::json;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(ParseDaemonStatusTest, ReadsEveryField) {
  Result<DaemonStatus> status = ParseDaemonStatus(json::parse(
      R"({"connected":true,"manager":"172.17.0.1:1","subnets":["10.0.0.0/24","10.1.0.0/16"],
          "dns":{"address":"172.17.0.2:53","search":["default.svc.cluster.local"]},
          "error":"","reconnects":3})"));
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_TRUE(status.value().connected);
  EXPECT_EQ(status.value().manager, "172.17.0.1:1");
  EXPECT_EQ(status.value().subnets, (std::vector<std::string>{"10.0.0.0/24", "10.1.0.0/16"}));
  EXPECT_EQ(status.value().dns_address, "172.17.0.2:53");
  EXPECT_EQ(status.value().dns_search, std::vector<std::string>{"default.svc.cluster.local"});
  EXPECT_EQ(status.value().reconnects, 3u);
  EXPECT_TRUE(IsReady(status.value()));
}

TEST(ParseDaemonStatusTest, MissingFieldsKeepDefaultsAndUnknownOnesAreIgnored) {
  Result<DaemonStatus> status = ParseDaemonStatus(json::parse(R"({"connected":true,"new":1})"));
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(status.value().connected);
  EXPECT_FALSE(IsReady(status.value()));  // no DNS server yet
}

TEST(ParseDaemonStatusTest, WrongTypesAreErrors) {
  for (const char* body :
       {R"([1])", R"({"connected":"yes"})", R"({"subnets":"10.0.0.0/8"})", R"({"subnets":[1]})",
        R"({"dns":"x"})", R"({"dns":{"address":1}})", R"({"reconnects":-1})"}) {
    EXPECT_FALSE(ParseDaemonStatus(json::parse(body)).ok()) << body;
  }
}

TEST(ClassifyDaemonErrorTest, TellsARefusalFromAnUnreachableManager) {
  EXPECT_EQ(ClassifyDaemonError(""), ManagerProblem::kNone);
  EXPECT_EQ(ClassifyDaemonError("refused by the traffic-manager: wrong secret"),
            ManagerProblem::kRefused);
  EXPECT_EQ(ClassifyDaemonError("bad secret"), ManagerProblem::kRefused);
  EXPECT_EQ(ClassifyDaemonError("cannot reach the traffic-manager: cannot connect to "
                                "172.17.0.1:1: Connection refused"),
            ManagerProblem::kUnreachable);
  EXPECT_EQ(ClassifyDaemonError("cannot resolve nowhere: Name or service not known"),
            ManagerProblem::kUnreachable);
  EXPECT_EQ(ClassifyDaemonError("tunnel lost: keepalive timeout"), ManagerProblem::kOther);
}

TEST(FormatStatusTextTest, OneKeyValuePerLine) {
  DaemonStatus status{.connected = false,
                      .manager = "172.17.0.1:1",
                      .error = "tunnel lost: reset",
                      .reconnects = 2};
  EXPECT_EQ(FormatStatusText(status, "dev", "tp-dev-cn", ""),
            "Connected: no\n"
            "Context: dev\n"
            "Daemon container: tp-dev-cn\n"
            "Teleroute network: none\n"
            "Traffic-manager: 172.17.0.1:1\n"
            "Cluster subnets: none\n"
            "DNS server: not started\n"
            "DNS search domains: none\n"
            "Capture: off\n"
            "Reconnects: 2\n"
            "Last error: tunnel lost: reset\n");
}

TEST(FormatStatusTextTest, ShowsTheCapture) {
  auto status = ParseDaemonStatus(
      json::parse(R"({"connected":true,"capture":{"enabled":true,"active":true,"port":15001,)"
                  R"("subnets":["10.213.0.0/24","10.96.0.0/12"],"error":""}})"));
  ASSERT_TRUE(status.ok());
  EXPECT_NE(FormatStatusText(status.value(), "dev", "tp-dev-cn",
                             "tp-dev (10.200.0.0/24, daemon 10.200.0.2)")
                .find("Capture: TCP and UDP to 10.213.0.0/24, 10.96.0.0/12 on port 15001\n"),
            std::string::npos);
  auto failed = ParseDaemonStatus(json::parse(
      R"({"capture":{"enabled":true,"active":false,"port":15001,"error":"no NET_ADMIN"}})"));
  ASSERT_TRUE(failed.ok());
  EXPECT_NE(FormatStatusText(failed.value(), "dev", "tp-dev-cn", "")
                .find("Capture: not active: no NET_ADMIN\n"),
            std::string::npos);
  EXPECT_FALSE(ParseDaemonStatus(json::parse(R"({"capture":{"port":"x"}})")).ok());
}

TEST(FormatStatusTextTest, ShowsTheTelerouteNetworkAfterTheDaemonContainer) {
  EXPECT_NE(FormatStatusText(DaemonStatus{}, "dev", "tp-dev-cn",
                             "tp-dev (10.200.0.0/24, daemon 10.200.0.2)")
                .find("Daemon container: tp-dev-cn\n"
                      "Teleroute network: tp-dev (10.200.0.0/24, daemon 10.200.0.2)\n"),
            std::string::npos);
}

TEST(StatusJsonTest, AddsContextAndContainer) {
  json body = StatusJson(json{{"connected", true}}, "dev", "tp-dev-cn");
  EXPECT_EQ(body, json::parse(R"({"connected":true,"context":"dev","container":"tp-dev-cn"})"));
  EXPECT_EQ(NotConnectedJson("dev"),
            json::parse(R"({"connected":false,"context":"dev","container":null})"));
  EXPECT_EQ(ContainerNotRunningJson("dev", "tp-dev-cn", "exited")["container_state"], "exited");
}

TEST(JoinOrNoneTest, Joins) {
  EXPECT_EQ(JoinOrNone({}), "none");
  EXPECT_EQ(JoinOrNone({"a", "b"}), "a, b");
}

}  // namespace
}  // namespace tp::cli
