#include "cli/host_daemon.h"

#include <gtest/gtest.h>

#include <algorithm>

namespace tp::cli {
namespace {

TEST(HostDaemonRecordTest, RoundTripsAndRefusesWhatIsNotARecord) {
  const HostDaemonRecord record{
      .pid = 4242, .control_port = 38787, .token = "abc", .dns_address = "172.17.0.1"};
  EXPECT_EQ(HostDaemonRecordFromJson(HostDaemonRecordToJson(record)), record);
  EXPECT_EQ(HostDaemonRecordFromJson(nlohmann::json::object()), std::nullopt);
  nlohmann::json init = HostDaemonRecordToJson(record);
  init["pid"] = 1;  // never signal init
  EXPECT_EQ(HostDaemonRecordFromJson(init), std::nullopt);
  nlohmann::json wrong = HostDaemonRecordToJson(record);
  wrong["control_port"] = "38787";
  EXPECT_EQ(HostDaemonRecordFromJson(wrong), std::nullopt);
}

bool HasPair(const std::vector<std::string>& argv, const std::string& flag,
             const std::string& value) {
  auto at = std::find(argv.begin(), argv.end(), flag);
  return at != argv.end() && at + 1 != argv.end() && *(at + 1) == value;
}

TEST(HostDaemonArgvTest, ListensOnLoopbackAndDockersBridgeAndKeepsTheHostsResolvConf) {
  const std::vector<std::string> argv =
      HostDaemonArgv("/opt/tp/telepresence-daemon", "/run/telepresence-docker/default",
                     {.context_name = "default",
                      .manager = "172.17.0.1:18081",
                      .secret_file = "/root/secret",
                      .dns_address = "172.17.0.1",
                      .token = "never-in-argv"});
  EXPECT_EQ(argv.front(), "/opt/tp/telepresence-daemon");
  EXPECT_TRUE(HasPair(argv, "--manager", "172.17.0.1:18081"));
  EXPECT_TRUE(HasPair(argv, "--control", "127.0.0.1:0"));
  EXPECT_TRUE(HasPair(argv, "--sftp-listen", "127.0.0.1"));
  EXPECT_TRUE(HasPair(argv, "--dns", "172.17.0.1:53"));
  EXPECT_TRUE(HasPair(argv, "--resolv-conf", "/etc/resolv.conf"));
  EXPECT_TRUE(
      HasPair(argv, "--resolv-conf-backup", "/run/telepresence-docker/default/resolv.conf.orig"));
  EXPECT_TRUE(
      HasPair(argv, "--control-port-file", "/run/telepresence-docker/default/control-port"));
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--write-resolv-conf"), 1);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "never-in-argv"), 0)
      << "the token goes in the environment, where other users cannot read it";
  const std::vector<std::string> undo =
      HostDaemonUndoArgv("/opt/tp/telepresence-daemon", "/run/telepresence-docker/default");
  EXPECT_EQ(std::count(undo.begin(), undo.end(), "--undo"), 1);
  EXPECT_TRUE(
      HasPair(undo, "--resolv-conf-backup", "/run/telepresence-docker/default/resolv.conf.orig"));
}

}  // namespace
}  // namespace tp::cli
