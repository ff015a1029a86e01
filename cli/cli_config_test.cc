#include "cli/cli_config.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

TEST(PluginRegistryTest, AcceptsHostPortAndPath) {
  for (std::string_view registry :
       {"127.0.0.1:5000", "localhost", "registry.example.com/telepresence",
        "registry-1.example.com:443/team/telepresence", "r:1/a_b.c-d"}) {
    EXPECT_TRUE(IsValidPluginRegistry(registry)) << registry;
  }
}

TEST(PluginRegistryTest, RefusesUrlsShellTextAndOddPaths) {
  for (std::string_view registry :
       {"", "http://r:5000", "r:5000/", "r:0", "r:65536", "r:port", "r/../x", "r//x", "r/A", "-r",
        ".r", "r;rm -rf /", "r x", "r:5000/x$(id)", "r@sha256"}) {
    EXPECT_FALSE(IsValidPluginRegistry(registry)) << registry;
  }
  EXPECT_FALSE(IsValidPluginRegistry(std::string(256, 'a')));
}

TEST(CliConfigTest, ReadsThePluginRegistry) {
  Result<CliConfig> config =
      ParseCliConfig(R"({"plugin_registry": "127.0.0.1:5000/tp"})", "/c/config.json");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config.value().plugin_registry, "127.0.0.1:5000/tp");
  Result<CliConfig> empty = ParseCliConfig("{}", "/c/config.json");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty.value().plugin_registry);
}

TEST(CliConfigTest, ErrorsNameTheFileAndTheProblem) {
  Result<CliConfig> not_json = ParseCliConfig("plugin_registry=x", "/c/config.json");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().message, "the settings file /c/config.json is not a JSON object");
  Result<CliConfig> unknown = ParseCliConfig(R"({"registry": "r"})", "/c/config.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("unknown key 'registry'"), std::string::npos);
  Result<CliConfig> invalid = ParseCliConfig(R"({"plugin_registry": "http://r"})", "/c/c.json");
  ASSERT_FALSE(invalid.ok());
  EXPECT_NE(invalid.error().message.find("host[:port][/path]"), std::string::npos);
}

TEST(CliConfigTest, AMissingFileIsNoSettings) {
  Result<CliConfig> config =
      LoadCliConfig([](const std::string& name) -> std::optional<std::string> {
        if (name == "XDG_CONFIG_HOME") return "/nonexistent-telepresence-test";
        return std::nullopt;
      });
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_FALSE(config.value().plugin_registry);
}

}  // namespace
}  // namespace tp::cli
