#include "common/plugin_command.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace tp {
namespace {

constexpr const char* kUsage = "usage: tool plugin [--socket PATH] [--state DIR]\n";

// Parses `args` against --socket and --state; returns the exit code (-1 when parsing succeeded).
int Parse(std::vector<std::string> args, std::string& socket, std::string& state) {
  std::vector<char*> argv;
  for (std::string& arg : args) argv.push_back(arg.data());
  int exit_code = -1;
  if (ParsePluginFlags(static_cast<int>(argv.size()), argv.data(),
                       {{"--socket", &socket}, {"--state", &state}}, "tool plugin", kUsage,
                       &exit_code)) {
    return -1;
  }
  return exit_code;
}

TEST(ParsePluginFlagsTest, TakesSeparateAndJoinedValues) {
  std::string socket = "default.sock", state = "/default";
  EXPECT_EQ(Parse({"--socket", "/run/a.sock", "--state=/var/lib/a"}, socket, state), -1);
  EXPECT_EQ(socket, "/run/a.sock");
  EXPECT_EQ(state, "/var/lib/a");
}

TEST(ParsePluginFlagsTest, NoArgumentsKeepTheDefaults) {
  std::string socket = "default.sock", state = "/default";
  EXPECT_EQ(Parse({}, socket, state), -1);
  EXPECT_EQ(socket, "default.sock");
  EXPECT_EQ(state, "/default");
}

TEST(ParsePluginFlagsTest, HelpPrintsUsageAndExitsZero) {
  std::string socket, state;
  testing::internal::CaptureStdout();
  EXPECT_EQ(Parse({"--help"}, socket, state), 0);
  EXPECT_EQ(testing::internal::GetCapturedStdout(), kUsage);
}

TEST(ParsePluginFlagsTest, UsageErrorsExitTwoNamingTheProblem) {
  std::string socket, state;
  testing::internal::CaptureStderr();
  EXPECT_EQ(Parse({"--socket"}, socket, state), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            std::string("tool plugin: --socket needs a value\n") + kUsage);
  testing::internal::CaptureStderr();
  EXPECT_EQ(Parse({"--stateful=x"}, socket, state), 2);
  EXPECT_EQ(testing::internal::GetCapturedStderr(),
            std::string("tool plugin: unknown argument --stateful=x\n") + kUsage);
}

TEST(RunPluginTest, ExitCodeFollowsTheOutcome) {
  EXPECT_EQ(RunPlugin("tool plugin", [] {}), 0);
  EXPECT_EQ(RunPlugin("tool plugin", [] { throw std::runtime_error("cannot bind"); }), 1);
}

}  // namespace
}  // namespace tp
