#include "cluster/agent/engagement.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace tp::agent {
namespace {

Engagement Make(EngagementMode mode, std::vector<uint16_t> ports) {
  return {"e-1", mode, std::move(ports)};
}

TEST(RouteForTest, WithoutEngagementEveryConnectionReachesTheApp) {
  EXPECT_EQ(RouteFor(std::nullopt, 8080), ConnectionRoute::kForward);
}

TEST(RouteForTest, FollowsTheModeOnEngagedPortsOnly) {
  EXPECT_EQ(RouteFor(Make(EngagementMode::kReplace, {8080, 9090}), 9090), ConnectionRoute::kEngage);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kIntercept, {8080}), 8080), ConnectionRoute::kEngage);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kIntercept, {8080}), 9090), ConnectionRoute::kForward);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kWiretap, {8080}), 8080), ConnectionRoute::kWiretap);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kWiretap, {8080}), 9090), ConnectionRoute::kForward);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kIngest, {}), 8080), ConnectionRoute::kForward);
  EXPECT_EQ(RouteFor(Make(EngagementMode::kIngest, {8080}), 8080), ConnectionRoute::kForward);
}

TEST(EngagementTest, StreamHostNamesTheEngagement) {
  EXPECT_EQ(EngagementStreamHost(Make(EngagementMode::kReplace, {})), "engagement/e-1");
}

TEST(EngagementTest, RegisterCarriesEverythingTheManagerNeeds) {
  const Registration registration{"echo",
                                  "echo",
                                  "10.213.0.3",
                                  {8080, 9090},
                                  8022,
                                  "0123456789abcdef0123456789abcdef",
                                  {{"ECHO_MESSAGE", "hi"}},
                                  {"/srv/echo-data", "/config"},
                                  {{"/config", api::MountPolicy::kRemoteReadOnly}}};
  EXPECT_EQ(nlohmann::json::parse(RegisterRequest(registration)), nlohmann::json::parse(R"({
    "op": "register", "workload": "echo", "container": "echo", "address": "10.213.0.3",
    "ports": [8080, 9090], "sftp_port": 8022,
    "sftp_token": "0123456789abcdef0123456789abcdef", "env": {"ECHO_MESSAGE": "hi"},
    "mounts": ["/srv/echo-data", "/config"], "mount_policies": {"/config": "RemoteReadOnly"}})"));
  EXPECT_EQ(nlohmann::json::parse(WatchRequest(7)),
            nlohmann::json::parse(R"({"op":"watch","version":7})"));
}

TEST(EngagementTest, ParsesWatchAnswers) {
  std::string error;
  auto none = ParseWatchAnswer(R"({"version": 3, "engagement": null})", error);
  ASSERT_TRUE(none) << error;
  EXPECT_EQ(none->version, 3u);
  EXPECT_FALSE(none->engagement);
  auto some = ParseWatchAnswer(
      R"({"version": 4, "engagement": {"id": "e-9", "mode": "wiretap", "ports": [9090]}})", error);
  ASSERT_TRUE(some) << error;
  ASSERT_TRUE(some->engagement);
  EXPECT_EQ(*some->engagement, (Engagement{"e-9", EngagementMode::kWiretap, {9090}}));
}

TEST(EngagementTest, RejectsMalformedWatchAnswers) {
  std::string error;
  EXPECT_FALSE(ParseWatchAnswer("not json", error));
  EXPECT_FALSE(ParseWatchAnswer(R"({"engagement": null})", error));
  EXPECT_FALSE(
      ParseWatchAnswer(R"({"version": 1, "engagement": {"id": "e", "mode": "x"}})", error));
  EXPECT_EQ(error, "unknown engagement mode x");
  EXPECT_FALSE(ParseWatchAnswer(
      R"({"version": 1, "engagement": {"id": "e", "mode": "replace", "ports": [0]}})", error));
}

TEST(EngagementTest, ReplyErrorTextPrefersTheSentence) {
  EXPECT_EQ(ReplyErrorText(R"({"error": "unknown op"})"), "unknown op");
  EXPECT_EQ(ReplyErrorText("plain"), "plain");
}

}  // namespace
}  // namespace tp::agent
