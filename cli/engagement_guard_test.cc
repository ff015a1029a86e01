#include "cli/engagement_guard.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "cli/test_fakes.h"

namespace tp::cli {
namespace {

using testing::FakeClock;
using testing::FakeDaemonControl;
using testing::FakeDocker;

class UndoAbandonedEngagementTest : public ::testing::Test {
 protected:
  UndoAbandonedEngagementTest()
      : control_([](int) { return Result<nlohmann::json>(nlohmann::json::object()); },
                 [] { return Status(Ok{}); },
                 [this](std::string_view method, std::string_view path, const nlohmann::json&) {
                   calls_.push_back(std::string(method) + " " + std::string(path));
                   calls_at_.push_back(clock_.Now());
                   return Result<nlohmann::json>(nlohmann::json::object());
                 }) {
    env_file_ = std::filesystem::temp_directory_path() /
                ("tp-guard-test-" + std::to_string(::getpid()) + ".env");
    std::ofstream(env_file_) << "A=1\n";
    engagement_ = {.engagement_id = "e-1",
                   .handler = "intercept-echo-8080",
                   .volumes = {"tp-e-1-data"},
                   .env_file = env_file_.string()};
  }
  ~UndoAbandonedEngagementTest() override { std::filesystem::remove(env_file_); }

  FakeDocker docker_;
  FakeClock clock_;
  std::vector<std::string> calls_;
  std::vector<SteadyTime> calls_at_;
  FakeDaemonControl control_;
  std::filesystem::path env_file_;
  GuardedEngagement engagement_;
};

TEST_F(UndoAbandonedEngagementTest, KeepsTheEngagementWhileTheHandlerRunsThenUndoesEverything) {
  // A handler that stops only after 3 s: the engagement must not end before.
  struct StoppingDocker : FakeDocker {
    FakeClock* clock = nullptr;
    SteadyTime stop_at{};
    Result<std::optional<std::string>> ContainerState(const std::string& name) override {
      if (clock->Now() >= stop_at) RemoveContainer(name);
      return FakeDocker::ContainerState(name);
    }
  } docker;
  docker.clock = &clock_;
  docker.stop_at = clock_.Now() + std::chrono::seconds(3);
  docker.containers["intercept-echo-8080"] = {"running", ""};
  const SteadyTime start = clock_.Now();
  UndoAbandonedEngagement(engagement_, docker, control_, clock_);
  ASSERT_EQ(calls_at_.size(), 1u);
  EXPECT_GE(calls_at_[0] - start, std::chrono::seconds(3));
  EXPECT_LE(calls_at_[0] - start, std::chrono::seconds(3) + kGuardPollInterval);
  EXPECT_EQ(calls_, std::vector<std::string>{"DELETE /engagements/e-1"});
  // (The container went with --rm; a late one would be removed by name.)
  EXPECT_EQ(docker.removed, (std::vector<std::string>{"intercept-echo-8080", "tp-e-1-data"}));
  EXPECT_FALSE(std::filesystem::exists(env_file_));
}

TEST_F(UndoAbandonedEngagementTest, EndsAtOnceWhenNoHandlerWasStarted) {
  const SteadyTime start = clock_.Now();
  UndoAbandonedEngagement(engagement_, docker_, control_, clock_);
  ASSERT_EQ(calls_at_.size(), 1u);
  EXPECT_EQ(calls_at_[0], start);
  EXPECT_EQ(calls_, std::vector<std::string>{"DELETE /engagements/e-1"});
  EXPECT_FALSE(std::filesystem::exists(env_file_));
}

TEST_F(UndoAbandonedEngagementTest, RetriesAVolumeDockerStillHolds) {
  docker_.volume_busy_for["tp-e-1-data"] = 3;
  UndoAbandonedEngagement(engagement_, docker_, control_, clock_);
  EXPECT_EQ(docker_.removed.back(), "tp-e-1-data");
}

TEST_F(UndoAbandonedEngagementTest, UndoesWhatItCanWhenDockerDoesNotAnswer) {
  docker_.fail_everything = "Cannot connect to the Docker daemon";
  UndoAbandonedEngagement(engagement_, docker_, control_, clock_);
  EXPECT_EQ(calls_, std::vector<std::string>{"DELETE /engagements/e-1"});
  EXPECT_FALSE(std::filesystem::exists(env_file_));
}

}  // namespace
}  // namespace tp::cli
