// EngagementTable and the checks of the CLI's and the manager's bodies: what the daemon accepts,
// the sentences it answers with, and where an engaged port's stream goes.
#include "daemon/engagement_table.h"

#include <gtest/gtest.h>

namespace tp::daemon {
namespace {

using nlohmann::json;

const json kAnswer = {{"id", "e-1"},           {"workload", "echo"},          {"container", "echo"},
                      {"address", "10.0.0.3"}, {"ports", {8080, 9090}},       {"sftp_port", 8022},
                      {"env", {{"A", "1"}}},   {"mounts", {"/srv/echo-data"}}};

Engagement MakeEngagement(const json& answer = kAnswer) {
  std::string error;
  std::optional<Engagement> engagement = EngagementFromAnswer(answer, error);
  EXPECT_TRUE(engagement) << error;
  return engagement.value_or(Engagement{});
}

TEST(ManagerEngageRequest, KeepsWhatTheManagerNeeds) {
  std::string error;
  const auto body = api::EngageRequestFromJson({{"workload", "echo"},
                                                {"mode", "intercept"},
                                                {"ports", {8080}},
                                                {"name", "mine"},
                                                {"sftp_client", "172.17.0.1"},
                                                {"extra", true}},
                                               error);
  ASSERT_TRUE(body) << error;
  EXPECT_EQ(ManagerEngageRequest(*body), json({{"op", "engage"},
                                               {"workload", "echo"},
                                               {"mode", "intercept"},
                                               {"ports", {8080}},
                                               {"name", "mine"}}));
  // Without a name the manager names it after the workload.
  EXPECT_FALSE(ManagerEngageRequest({.workload = "echo"}).contains("name"));
}

TEST(EngagementFromAnswer, NeedsTheIdAddressAndSftpPort) {
  const Engagement engagement = MakeEngagement();
  EXPECT_EQ(engagement.id, "e-1");
  EXPECT_EQ(engagement.agent_address, "10.0.0.3");
  EXPECT_EQ(engagement.agent_sftp_port, 8022);
  EXPECT_EQ(engagement.ports, (std::vector<uint16_t>{8080, 9090}));
  json without_sftp = kAnswer;
  without_sftp.erase("sftp_port");
  std::string error;
  EXPECT_FALSE(EngagementFromAnswer(without_sftp, error));
  EXPECT_EQ(error, "the traffic-manager's engage answer lacks the agent's SFTP port");
}

TEST(EngagementTable, LooksUpTheHandlerOfAnEngagedPort) {
  EngagementTable table;
  ASSERT_TRUE(table.Add(MakeEngagement()));
  EXPECT_FALSE(table.Add(MakeEngagement()));
  EXPECT_EQ(table.Lookup("engagement/e-1", 8080).refusal, "engagement e-1 has no handler yet");
  std::string error;
  ASSERT_EQ(table.SetHandler("e-1", {"10.200.0.130", {{8080, 80}}}, error),
            EngagementTable::SetHandlerResult::kSet);
  const HandlerTarget mapped = table.Lookup("engagement/e-1", 8080);
  EXPECT_EQ(mapped.address, "10.200.0.130");
  EXPECT_EQ(mapped.port, 80);
  EXPECT_EQ(mapped.refusal, "");
  // Engaged but not in the map: the same port on the handler.
  EXPECT_EQ(table.Lookup("engagement/e-1", 9090).port, 9090);
  EXPECT_EQ(table.Lookup("engagement/e-1", 7000).refusal, "port 7000 is not engaged by e-1");
  EXPECT_EQ(table.Lookup("engagement/e-2", 8080).refusal, "no engagement e-2 in this daemon");
  EXPECT_EQ(table.Lookup("10.0.0.3", 8080).refusal,
            "the daemon takes streams for engagements only, not 10.0.0.3");
}

TEST(EngagementTable, SetsAHandlerOnceAndOnlyForEngagedPorts) {
  EngagementTable table;
  ASSERT_TRUE(table.Add(MakeEngagement()));
  using Result = EngagementTable::SetHandlerResult;
  std::string error;
  EXPECT_EQ(table.SetHandler("e-9", {"10.0.0.9", {}}, error), Result::kUnknownId);
  EXPECT_EQ(table.SetHandler("e-1", {"10.0.0.9", {{1234, 1234}}}, error), Result::kPortNotEngaged);
  EXPECT_EQ(error, "port 1234 is not engaged by e-1");
  EXPECT_EQ(table.SetHandler("e-1", {"10.0.0.9", {}}, error), Result::kSet);
  EXPECT_EQ(table.SetHandler("e-1", {"10.0.0.8", {}}, error), Result::kHasHandler);
  EXPECT_EQ(error, "engagement e-1 has a handler already (10.0.0.9)");
  table.ClearHandler("e-1");
  EXPECT_EQ(table.SetHandler("e-1", {"10.0.0.8", {}}, error), Result::kSet);
}

TEST(EngagementTable, ShowsTheForwardPortAndTheHandler) {
  Engagement engagement = MakeEngagement();
  engagement.sftp_forward_port = 40022;
  json expected = kAnswer;
  expected["sftp_port"] = 40022;
  expected["handler"] = nullptr;
  EXPECT_EQ(engagement.ToJson(), expected);
  engagement.handler = Handler{"10.200.0.130", {{8080, 80}}};
  expected["handler"] = {{"address", "10.200.0.130"}, {"ports", {{"8080", 80}}}};
  EXPECT_EQ(engagement.ToJson(), expected);
}

TEST(EngagementTable, RemovesAndDropsThoseWhoseTunnelIsGone) {
  EngagementTable table;
  ASSERT_TRUE(table.Add(MakeEngagement()));  // no tunnel at all: counts as gone
  EXPECT_EQ(table.Remove("e-1")->id, "e-1");
  EXPECT_FALSE(table.Remove("e-1"));
  ASSERT_TRUE(table.Add(MakeEngagement()));
  EXPECT_EQ(table.RemoveDead().size(), 1u);
  EXPECT_EQ(table.Size(), 0u);
}

}  // namespace
}  // namespace tp::daemon
