#include "cluster/manager/engagement_registry.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace tp::manager {
namespace {

using namespace std::chrono_literals;
using Clock = EngagementRegistry::Clock;

constexpr SessionId kAgent = 1;
constexpr SessionId kDaemon = 2;
constexpr SessionId kOtherDaemon = 3;

AgentInfo EchoAgent() {
  AgentInfo info;
  info.workload = "echo";
  info.container = "echo";
  info.address = "10.213.0.3";
  info.ports = {8080, 9090};
  info.sftp_port = 8022;
  info.env = {{"ECHO_MESSAGE", "hi"}};
  info.mounts = {"/srv/echo-data"};
  return info;
}

// Collects what a watcher is told.
struct WatchLog {
  std::vector<WatchState> answers;
  WatchAnswer Callback() {
    return [this](const WatchState& state) { answers.push_back(state); };
  }
};

class EngagementRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(registry_.RegisterAgent(kAgent, EchoAgent())); }

  Engagement Engage(const std::string& mode, std::vector<uint16_t> ports = {},
                    SessionId daemon = kDaemon) {
    const EngageOutcome outcome = registry_.Engage(daemon, {"echo", mode, std::move(ports), ""});
    EXPECT_FALSE(outcome.refusal) << outcome.refusal->sentence;
    return outcome.engagement;
  }
  // The current version, from a watch that answers at once.
  uint64_t CurrentVersion() {
    WatchLog log;
    EXPECT_FALSE(registry_.Watch(kAgent, 0, log.Callback()));
    return log.answers.empty() ? 0 : log.answers.back().version;
  }

  EngagementRegistry registry_{20s};
};

TEST_F(EngagementRegistryTest, RegisteredWorkloadIsListedUntilItsAgentLeaves) {
  std::vector<WorkloadView> views = registry_.List();
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0].agent, EchoAgent());
  EXPECT_FALSE(views[0].engagement);
  registry_.UnregisterAgent(kAgent);
  EXPECT_TRUE(registry_.List().empty());
}

TEST_F(EngagementRegistryTest, RegistrationWithoutPortsIsRefused) {
  AgentInfo info = EchoAgent();
  info.ports.clear();
  const auto refusal = registry_.RegisterAgent(7, info);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error_code, EINVAL);
}

TEST_F(EngagementRegistryTest, ReplaceEngagesEveryPortAndNameDefaultsToTheWorkload) {
  const EngageOutcome outcome = registry_.Engage(kDaemon, {"echo", "replace", {8080}, ""});
  ASSERT_FALSE(outcome.refusal);
  EXPECT_EQ(outcome.engagement.ports, (std::vector<uint16_t>{8080, 9090}));
  EXPECT_EQ(outcome.engagement.name, "echo");
  EXPECT_FALSE(outcome.engagement.active);
  EXPECT_TRUE(outcome.engagement.id.starts_with("e-"));
  EXPECT_GT(outcome.engagement.id.size(), 2u);
  EXPECT_EQ(outcome.agent, EchoAgent());
  const auto views = registry_.List();
  ASSERT_TRUE(views[0].engagement);
  EXPECT_EQ(views[0].engagement->id, outcome.engagement.id);
}

TEST_F(EngagementRegistryTest, InterceptAndWiretapTakeTheChosenPortsOrTheFirst) {
  Engagement first = Engage("intercept");
  EXPECT_EQ(first.ports, std::vector<uint16_t>{8080});
  ASSERT_FALSE(registry_.Leave(kDaemon, first.id));
  Engagement chosen = Engage("wiretap", {9090, 9090});
  EXPECT_EQ(chosen.ports, std::vector<uint16_t>{9090});
  ASSERT_FALSE(registry_.Leave(kDaemon, chosen.id));
  EXPECT_TRUE(Engage("ingest", {8080}).ports.empty());
}

TEST_F(EngagementRegistryTest, RefusalsSaySentencesForTheUser) {
  EngageOutcome outcome = registry_.Engage(kDaemon, {"nope", "replace", {}, ""});
  ASSERT_TRUE(outcome.refusal);
  EXPECT_EQ(outcome.refusal->error_code, ENOENT);
  EXPECT_EQ(outcome.refusal->sentence,
            "no workload named nope has a traffic-agent; `telepresence list` shows those that do");

  outcome = registry_.Engage(kDaemon, {"echo", "intercept", {7070}, ""});
  ASSERT_TRUE(outcome.refusal);
  EXPECT_EQ(outcome.refusal->sentence, "workload echo has no port 7070; its ports are 8080, 9090");

  outcome = registry_.Engage(kDaemon, {"echo", "borrow", {}, ""});
  ASSERT_TRUE(outcome.refusal);
  EXPECT_EQ(outcome.refusal->error_code, EINVAL);
  EXPECT_NE(outcome.refusal->sentence.find("borrow"), std::string::npos);

  ASSERT_FALSE(registry_.Engage(kDaemon, {"echo", "replace", {}, "mine"}).refusal);
  outcome = registry_.Engage(kOtherDaemon, {"echo", "intercept", {}, ""});
  ASSERT_TRUE(outcome.refusal);
  EXPECT_EQ(outcome.refusal->error_code, EBUSY);
  EXPECT_EQ(outcome.refusal->sentence,
            "workload echo is already engaged by mine (replace); `telepresence leave mine` first");
}

TEST_F(EngagementRegistryTest, OnlyTheEngagingDaemonActivatesOrLeaves) {
  const Engagement engagement = Engage("replace");
  EXPECT_EQ(registry_.Activate(kOtherDaemon, engagement.id)->error_code, ENOENT);
  EXPECT_EQ(registry_.Leave(kOtherDaemon, engagement.id)->error_code, ENOENT);
  EXPECT_EQ(registry_.Leave(kDaemon, "e-unknown")->error_code, ENOENT);
  EXPECT_FALSE(registry_.Activate(kDaemon, engagement.id));
  EXPECT_TRUE(registry_.List()[0].engagement->active);
  EXPECT_FALSE(registry_.Leave(kDaemon, engagement.id));
  EXPECT_FALSE(registry_.List()[0].engagement);
}

TEST_F(EngagementRegistryTest, WatchSeesOnlyActiveEngagementsAndTheirEnd) {
  WatchLog first;
  ASSERT_FALSE(registry_.Watch(kAgent, 0, first.Callback()));
  ASSERT_EQ(first.answers.size(), 1u);  // version 0 is never current: answered at once
  EXPECT_FALSE(first.answers[0].engagement);
  const uint64_t version = first.answers[0].version;

  WatchLog pending;
  ASSERT_FALSE(registry_.Watch(kAgent, version, pending.Callback()));
  const Engagement engagement = Engage("intercept", {9090});
  EXPECT_TRUE(pending.answers.empty()) << "an inactive engagement is not told";
  ASSERT_FALSE(registry_.Activate(kDaemon, engagement.id));
  ASSERT_EQ(pending.answers.size(), 1u);
  ASSERT_TRUE(pending.answers[0].engagement);
  EXPECT_EQ(pending.answers[0].engagement->id, engagement.id);
  EXPECT_EQ(pending.answers[0].engagement->ports, std::vector<uint16_t>{9090});
  EXPECT_GT(pending.answers[0].version, version);

  WatchLog ended;
  ASSERT_FALSE(registry_.Watch(kAgent, pending.answers[0].version, ended.Callback()));
  registry_.EndDaemonSession(kDaemon);
  ASSERT_EQ(ended.answers.size(), 1u);
  EXPECT_FALSE(ended.answers[0].engagement);
  EXPECT_TRUE(registry_.List()[0].engagement == std::nullopt);
}

TEST_F(EngagementRegistryTest, WatchIsAnsweredUnchangedAfterTheTimeout) {
  const uint64_t version = CurrentVersion();
  WatchLog log;
  const auto start = Clock::now();
  ASSERT_FALSE(registry_.Watch(kAgent, version, log.Callback(), start));
  registry_.ExpireWatches(start + 19s);
  EXPECT_TRUE(log.answers.empty());
  registry_.ExpireWatches(start + 20s);
  ASSERT_EQ(log.answers.size(), 1u);
  EXPECT_EQ(log.answers[0].version, version);
  EXPECT_EQ(registry_.PendingWatchCount(), 0u);
}

TEST_F(EngagementRegistryTest, WatchBeforeRegisteringIsRefused) {
  WatchLog log;
  const auto refusal = registry_.Watch(99, 0, log.Callback());
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error_code, EINVAL);
  EXPECT_TRUE(log.answers.empty());
}

TEST_F(EngagementRegistryTest, AgentThatLeavesEndsItsEngagementAndDropsItsWatches) {
  const Engagement engagement = Engage("replace");
  ASSERT_FALSE(registry_.Activate(kDaemon, engagement.id));
  WatchLog log;
  ASSERT_FALSE(registry_.Watch(kAgent, CurrentVersion(), log.Callback()));
  registry_.UnregisterAgent(kAgent);
  EXPECT_TRUE(log.answers.empty());
  EXPECT_EQ(registry_.PendingWatchCount(), 0u);
  EXPECT_EQ(registry_.Leave(kDaemon, engagement.id)->error_code, ENOENT);
  // Registered again, the workload is free.
  ASSERT_FALSE(registry_.RegisterAgent(kAgent, EchoAgent()));
  EXPECT_FALSE(registry_.List()[0].engagement);
}

TEST_F(EngagementRegistryTest, ALiveAgentsWorkloadCannotBeTakenOver) {
  constexpr SessionId kImpostor = 10;
  AgentInfo fake = EchoAgent();
  fake.address = "10.9.9.9";
  fake.env = {{"ECHO_MESSAGE", "from an impostor"}};
  const auto refusal = registry_.RegisterAgent(kImpostor, fake);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error_code, EEXIST);
  EXPECT_NE(refusal->sentence.find("still connected"), std::string::npos) << refusal->sentence;
  ASSERT_EQ(registry_.List().size(), 1u);
  EXPECT_EQ(registry_.List()[0].agent, EchoAgent()) << "the real agent's record stays";
  const Engagement engagement = Engage("replace");
  EXPECT_TRUE(registry_.RouteAgentStream(kImpostor, engagement.id, 8080).refusal);
}

TEST_F(EngagementRegistryTest, AfterTheAgentLeftANewOneRegistersAndTheOldLeavesNothingBehind) {
  constexpr SessionId kNewAgent = 10;
  registry_.UnregisterAgent(kAgent);
  ASSERT_FALSE(registry_.RegisterAgent(kNewAgent, EchoAgent()));
  ASSERT_EQ(registry_.List().size(), 1u);
  const Engagement engagement = Engage("replace");
  ASSERT_FALSE(registry_.Activate(kDaemon, engagement.id));
  EXPECT_FALSE(registry_.RouteAgentStream(kNewAgent, engagement.id, 8080).refusal);
  EXPECT_TRUE(registry_.RouteAgentStream(kAgent, engagement.id, 8080).refusal);
}

TEST_F(EngagementRegistryTest, AgentStreamsRouteToTheEngagingDaemonWhileActive) {
  const Engagement engagement = Engage("intercept", {8080});
  EXPECT_EQ(registry_.RouteAgentStream(kAgent, engagement.id, 8080).refusal->error_code,
            ECONNREFUSED);  // not active yet
  ASSERT_FALSE(registry_.Activate(kDaemon, engagement.id));
  const auto route = registry_.RouteAgentStream(kAgent, engagement.id, 8080);
  ASSERT_FALSE(route.refusal);
  EXPECT_EQ(route.daemon, kDaemon);
  EXPECT_TRUE(registry_.RouteAgentStream(kAgent, engagement.id, 9090).refusal);
  ASSERT_FALSE(registry_.Leave(kDaemon, engagement.id));
  EXPECT_TRUE(registry_.RouteAgentStream(kAgent, engagement.id, 8080).refusal);
}

}  // namespace
}  // namespace tp::manager
