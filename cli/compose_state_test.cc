#include "cli/compose_state.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

TEST(ComposeStateTest, ProjectNamesAsDockerComposeMakesThem) {
  EXPECT_EQ(NormalizeComposeProjectName("My App.v2_x-y"), "myappv2_x-y");
  EXPECT_EQ(NormalizeComposeProjectName("..."), "");
  const std::filesystem::path cwd = "/home/dev/Shop";
  EXPECT_EQ(ComposeProjectName(std::nullopt, std::nullopt, {}, cwd).value(), "shop");
  EXPECT_EQ(ComposeProjectName(std::nullopt, std::nullopt, {"sub/compose.yml"}, cwd).value(),
            "sub");
  EXPECT_EQ(ComposeProjectName(std::nullopt, std::nullopt, {"/tmp/x/Demo/a.yml"}, cwd).value(),
            "demo");
  EXPECT_EQ(ComposeProjectName(std::nullopt, "FromEnv", {"/tmp/a.yml"}, cwd).value(), "fromenv");
  EXPECT_EQ(ComposeProjectName("flag", "FromEnv", {"/tmp/a.yml"}, cwd).value(), "flag");
  Result<std::string> empty = ComposeProjectName("!!", std::nullopt, {}, cwd);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("give one with -p NAME"), std::string::npos);
}

TEST(ComposeStateTest, TheProjectsFolder) {
  EXPECT_EQ(ComposeStateDirectory("/home/dev/.config/telepresence-docker/contexts", "shop"),
            "/home/dev/.config/telepresence-docker/compose/shop");
}

TEST(ComposeStateTest, RoundTrip) {
  const ComposeState state{.project = "shop",
                           .context_name = "default",
                           .engagements = {{.service = "local-echo",
                                            .workload = "echo",
                                            .id = "e-1",
                                            .volumes = {"tp-shop-local-echo-0"}}}};
  Result<ComposeState> read = ComposeStateFromJson(ComposeStateToJson(state), "state.json");
  ASSERT_TRUE(read.ok()) << read.error().message;
  EXPECT_EQ(read.value(), state);
  Result<ComposeState> bad = ComposeStateFromJson(nlohmann::json{{"project", 1}}, "state.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("state.json cannot be read"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
