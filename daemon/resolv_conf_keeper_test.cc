#include "daemon/resolv_conf_keeper.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "daemon/cluster_resolv_conf.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;

std::string Read(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Polls until the file holds `text` or 5 s pass.
bool HoldsWithin5s(const std::string& path, const std::string& text) {
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Read(path) != text) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class ResolvConfKeeperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = (std::filesystem::temp_directory_path() /
             ("resolv-keeper-test-" + std::to_string(::getpid())))
                .string();
    std::string error;
    ASSERT_TRUE(WriteFileInPlace(path_, kOurs, error)) << error;
  }
  void TearDown() override { std::filesystem::remove(path_); }

  const std::string kOurs = "nameserver 127.0.0.1\nsearch default.svc.cluster.local\n";
  const std::string kDockers = "nameserver 127.0.0.11\noptions ndots:0\n";
  std::string path_;
};

TEST_F(ResolvConfKeeperTest, AnInPlaceRewriteIsUndoneAtOnce) {
  ResolvConfKeeper keeper(path_, kOurs, std::chrono::hours(1));  // no periodic check: inotify
  struct stat before {};
  ASSERT_EQ(::stat(path_.c_str(), &before), 0);
  for (int round = 0; round < 3; ++round) {
    std::string error;
    ASSERT_TRUE(WriteFileInPlace(path_, kDockers, error)) << error;
    EXPECT_TRUE(HoldsWithin5s(path_, kOurs)) << "round " << round << ": " << Read(path_);
  }
  // (The count goes up just after the restoring write, which the loop above may see first.)
  const auto counted = Clock::now() + std::chrono::seconds(5);
  while (keeper.Restores() < 3 && Clock::now() < counted) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_GE(keeper.Restores(), 3);
  struct stat after {};
  ASSERT_EQ(::stat(path_.c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino)
      << "restored in place, not replaced (it may be a bind mount)";
}

TEST_F(ResolvConfKeeperTest, AnUnchangedFileIsLeftAlone) {
  ResolvConfKeeper keeper(path_, kOurs, std::chrono::milliseconds(10));
  std::string error;
  ASSERT_TRUE(WriteFileInPlace(path_, kOurs, error)) << error;  // a change event, same text
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // several periodic checks
  EXPECT_EQ(keeper.Restores(), 0);
  EXPECT_EQ(Read(path_), kOurs);
}

}  // namespace
}  // namespace tp::daemon
