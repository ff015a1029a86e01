#include "cli/connect_wait.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using namespace std::chrono_literals;

DaemonStatus Ready() {
  return {.connected = true, .manager = "172.17.0.1:1", .dns_address = "172.17.0.2:53"};
}

DaemonStatus Failing(std::string error) { return {.manager = "m:1", .error = std::move(error)}; }

TEST(NextConnectStepTest, WaitsWhileTheDaemonStartsAndIsReadyWithDns) {
  EXPECT_EQ(NextConnectStep({}, 100ms, 20s), ConnectStep::kWait);
  DaemonStatus connected_without_dns = Ready();
  connected_without_dns.dns_address.clear();
  EXPECT_EQ(NextConnectStep({connected_without_dns}, 1s, 20s), ConnectStep::kWait);
  EXPECT_EQ(NextConnectStep({Ready()}, 1s, 20s), ConnectStep::kReady);
  EXPECT_EQ(NextConnectStep({Ready()}, 30s, 20s), ConnectStep::kReady);
}

TEST(NextConnectStepTest, ARefusalEndsAtOnce) {
  ConnectObservation refused{Failing("refused by the traffic-manager: wrong secret")};
  EXPECT_EQ(NextConnectStep(refused, 100ms, 20s), ConnectStep::kRefused);
}

TEST(NextConnectStepTest, AnUnreachableManagerWaitsForTheTimeout) {
  ConnectObservation unreachable{
      Failing("cannot reach the traffic-manager: cannot connect to m:1: Connection refused")};
  EXPECT_EQ(NextConnectStep(unreachable, 19999ms, 20s), ConnectStep::kWait);
  EXPECT_EQ(NextConnectStep(unreachable, 20s, 20s), ConnectStep::kTimedOut);
  EXPECT_EQ(NextConnectStep({}, 20s, 20s), ConnectStep::kTimedOut);
}

TEST(NextConnectStepTest, AStoppedDaemonEndsAtOnce) {
  EXPECT_EQ(NextConnectStep({std::nullopt, false}, 100ms, 20s), ConnectStep::kDaemonStopped);
}

TEST(FormatSecondsTest, OneDecimal) {
  EXPECT_EQ(FormatSeconds(0ms), "0.0 s");
  EXPECT_EQ(FormatSeconds(640ms), "0.6 s");
  EXPECT_EQ(FormatSeconds(12345ms), "12.3 s");
}

TEST(DueProgressDotsTest, OnePerWholeSecond) {
  EXPECT_EQ(DueProgressDots(999ms, 0), 0);
  EXPECT_EQ(DueProgressDots(1s, 0), 1);
  EXPECT_EQ(DueProgressDots(3500ms, 1), 2);
  EXPECT_EQ(DueProgressDots(2s, 3), 0);
}

TEST(FormatConnectedTest, LastLineStartsWithConnectedTo) {
  DaemonStatus status = Ready();
  status.subnets = {"10.213.0.0/24"};
  status.dns_search = {"default.svc.cluster.local", "cluster.local"};
  EXPECT_EQ(FormatConnected(status, "default", "tp-default-cn", 49153,
                            "tp-default (10.200.0.0/24, daemon 10.200.0.2)", 640ms),
            "Daemon container: tp-default-cn (control API on 127.0.0.1:49153)\n"
            "Cluster subnets: 10.213.0.0/24\n"
            "DNS search domains: default.svc.cluster.local, cluster.local\n"
            "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n"
            "Connected to 172.17.0.1:1 (context default) in 0.6 s\n");
  EXPECT_EQ(FormatAlreadyConnected("172.17.0.1:1", "dev"),
            "Already connected to 172.17.0.1:1 (context dev)\n");
}

}  // namespace
}  // namespace tp::cli
