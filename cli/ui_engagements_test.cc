#include "cli/ui_engagements.h"

#include <gtest/gtest.h>

#include <variant>

namespace tp::cli {
namespace {

using Words = std::vector<std::string>;

TEST(EngageWords, AreTheCommandLineOfTheSameEngagement) {
  EXPECT_EQ(EngageWords("default", "replace", "echo", {"8080:9090"}, "my-echo:dev", "",
                        {"-e", "A=$(reboot)"}, {"--verbose"}),
            (Words{"replace", "echo", "--context", "default", "--port", "8080:9090", "--docker-run",
                   "--", "-e", "A=$(reboot)", "my-echo:dev", "--verbose"}));
  EXPECT_EQ(EngageWords("dev", "intercept", "echo", {}, "", "/src/echo", {}, {}),
            (Words{"intercept", "echo", "--context", "dev", "--docker-build", "/src/echo", "--",
                   "IMAGE"}));
}

TEST(EngageWords, ParseIntoTheEngageCommandTheCliWouldRun) {
  Result<CommandLine> parsed =
      ParseCommandLine(EngageWords("default", "intercept", "echo", {"8080"}, "tp-echo:latest", "",
                                   {"--name", "mine"}, {"--port", "8080"}));
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const auto* command = std::get_if<EngageCommand>(&parsed.value().command);
  ASSERT_NE(command, nullptr);
  EXPECT_EQ(command->mode, EngagementMode::kIntercept);
  EXPECT_EQ(command->workload, "echo");
  EXPECT_EQ(command->ports, (std::vector<PortMapping>{{8080, 8080}}));
  EXPECT_EQ(command->docker_args.flags, (Words{"--name", "mine"}));
  EXPECT_EQ(command->docker_args.image, "tp-echo:latest");
  EXPECT_EQ(command->docker_args.image_args, (Words{"--port", "8080"}));
}

TEST(EngageWords, AWorkloadThatLooksLikeAFlagIsNoEngagement) {
  // The page's form cannot smuggle a flag in as the workload: the parser refuses it or takes it
  // as a help request, never as an engagement of something else.
  Result<CommandLine> parsed =
      ParseCommandLine(EngageWords("default", "replace", "--help", {}, "x", "", {}, {}));
  EXPECT_FALSE(parsed.ok() && std::holds_alternative<EngageCommand>(parsed.value().command));
  Result<CommandLine> bad_port =
      ParseCommandLine(EngageWords("default", "replace", "echo", {"99999"}, "x", "", {}, {}));
  ASSERT_FALSE(bad_port.ok());
  EXPECT_NE(bad_port.error().message.find("99999"), std::string::npos) << bad_port.error().message;
}

}  // namespace
}  // namespace tp::cli
