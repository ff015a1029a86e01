#include "daemon/host_resolv_conf.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/atomic_file.h"

namespace tp::daemon {
namespace {

namespace fs = std::filesystem;

constexpr char kOriginal[] = "nameserver 192.0.2.53\nsearch example.test\n";

class HostResolvConfTest : public ::testing::Test {
 protected:
  void SetUp() override {
    folder_ = fs::temp_directory_path() / ("host-resolv-test-" + std::to_string(::getpid()));
    fs::remove_all(folder_);
    fs::create_directories(folder_);
    Write(path_, kOriginal);
  }
  void TearDown() override { fs::remove_all(folder_); }

  static void Write(const std::string& path, const std::string& text) {
    WriteFileAtomically(path, text);
  }
  static std::string Read(const std::string& path) {
    return ReadWholeFile(path).value_or("<none>");
  }
  static std::string Ours(const std::string& original) {
    return "nameserver 172.17.0.1\n# was " + original;
  }

  fs::path folder_;
  std::string path_ = (fs::temp_directory_path() /
                       ("host-resolv-test-" + std::to_string(::getpid())) / "resolv.conf");
  std::string backup_ = (fs::temp_directory_path() /
                         ("host-resolv-test-" + std::to_string(::getpid())) / "resolv.conf.orig");
};

TEST_F(HostResolvConfTest, TheFileHoldsOurTextWhileItLivesAndItsOwnAfter) {
  std::string error;
  {
    auto applied = HostResolvConf::Apply(path_, backup_, Ours, error);
    ASSERT_TRUE(applied) << error;
    EXPECT_EQ(Read(path_), Ours(kOriginal));
    EXPECT_EQ(Read(backup_), kOriginal) << "a daemon that dies now leaves the way back";
  }
  EXPECT_EQ(Read(path_), kOriginal);
  EXPECT_FALSE(fs::exists(backup_));
}

TEST_F(HostResolvConfTest, ABackupLeftByADeadDaemonIsPutBackFirst) {
  Write(backup_, kOriginal);
  Write(path_, Ours(kOriginal));  // what the dead daemon left
  std::string error;
  {
    auto applied = HostResolvConf::Apply(path_, backup_, Ours, error);
    ASSERT_TRUE(applied) << error;
    EXPECT_EQ(Read(path_), Ours(kOriginal)) << "built from the original, not from our own text";
  }
  EXPECT_EQ(Read(path_), kOriginal);
}

TEST_F(HostResolvConfTest, UndoPutsBackWhatADeadDaemonLeftAndIsHarmlessWithout) {
  std::string error;
  EXPECT_TRUE(HostResolvConf::Undo(path_, backup_, error)) << error;
  EXPECT_EQ(Read(path_), kOriginal);
  Write(backup_, kOriginal);
  Write(path_, Ours(kOriginal));
  EXPECT_TRUE(HostResolvConf::Undo(path_, backup_, error)) << error;
  EXPECT_EQ(Read(path_), kOriginal);
  EXPECT_FALSE(fs::exists(backup_));
}

TEST_F(HostResolvConfTest, AFileThatCannotBeReadIsAnErrorAndNothingChanges) {
  std::string error;
  EXPECT_FALSE(HostResolvConf::Apply((folder_ / "missing").string(), backup_, Ours, error));
  EXPECT_NE(error.find("cannot read"), std::string::npos) << error;
  EXPECT_FALSE(fs::exists(backup_));
}

}  // namespace
}  // namespace tp::daemon
