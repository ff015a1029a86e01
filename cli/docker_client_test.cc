#include "cli/docker_client.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "cli/test_fakes.h"

namespace tp::cli {
namespace {

using std::chrono::milliseconds;
using testing::FakeClock;
using testing::FakeDocker;

TEST(RemoveVolumeWithinTest, AVolumeStillInUseIsRemovedOnceDockerReleasesIt) {
  FakeDocker docker;
  FakeClock clock;
  docker.volume_busy_for["tp-echo-0"] = 3;
  const SteadyTime start = clock.Now();
  EXPECT_TRUE(RemoveVolumeWithin(docker, clock, "tp-echo-0").ok());
  EXPECT_EQ(docker.removed, std::vector<std::string>{"tp-echo-0"});
  EXPECT_EQ(clock.Now() - start, 3 * kVolumeRemoveInterval);
}

TEST(RemoveVolumeWithinTest, AVolumeThatStaysInUseGivesDockersErrorAtTheDeadline) {
  FakeDocker docker;
  FakeClock clock;
  docker.volume_busy_for["tp-echo-0"] = 1000;
  const SteadyTime start = clock.Now();
  const Status removed = RemoveVolumeWithin(docker, clock, "tp-echo-0", milliseconds(1000));
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.error().message.find("volume is in use"), std::string::npos)
      << removed.error().message;
  EXPECT_TRUE(docker.removed.empty());
  EXPECT_GE(clock.Now() - start, milliseconds(1000));
  EXPECT_LT(clock.Now() - start, milliseconds(1000) + 2 * kVolumeRemoveInterval);
}

}  // namespace
}  // namespace tp::cli
