#include "cli/plugins.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/test_fakes.h"
#include "cli/version.h"

namespace tp::cli {
namespace {

using testing::FakeDocker;
using testing::FakePluginInstaller;

constexpr std::string_view kRegistry = "127.0.0.1:5000/tp";

class EnsurePluginsTest : public ::testing::Test {
 protected:
  Status Ensure(std::optional<std::string> registry = std::nullopt, bool upgrade = false) {
    return EnsurePlugins(docker_, installer_,
                         {.version = std::string(TelepresenceVersion()),
                          .registry = std::move(registry),
                          .upgrade = upgrade},
                         err_);
  }
  // The registry holds both plugins at `version`.
  void RegistryHolds(const std::string& version) {
    for (std::string_view name : kManagedPluginNames) {
      docker_.registry_plugins[PluginRemote(kRegistry, name, version)] = version;
    }
  }

  FakeDocker docker_;
  FakePluginInstaller installer_;
  std::ostringstream err_;
};

TEST_F(EnsurePluginsTest, NothingToDoWhenEnabledAndOfThisVersion) {
  EXPECT_TRUE(Ensure().ok());
  EXPECT_TRUE(installer_.installs.empty());
  EXPECT_TRUE(docker_.enabled_plugins.empty());
  EXPECT_EQ(err_.str(), "");
}

TEST_F(EnsurePluginsTest, WithoutARegistryTheBuildTreeInstallsOnceAndWhatIsLeftDisabledIsEnabled) {
  docker_.plugins.clear();
  installer_.install = [this](const std::vector<std::string>&) {
    docker_.plugins = {{"teleroute:latest", true}, {"telemount:latest", false}};
    return Status(Ok{});
  };
  Status status = Ensure();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(installer_.installs,
            (std::vector<std::vector<std::string>>{{"teleroute:latest", "telemount:latest"}}));
  EXPECT_EQ(docker_.enabled_plugins, std::vector<std::string>{"telemount:latest"});
}

TEST_F(EnsurePluginsTest, FailsWhenTheInstallationDidNotInstall) {
  docker_.plugins = {{"telemount:latest", true}};
  Status status = Ensure();
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("teleroute:latest is still not installed"),
            std::string::npos);
}

TEST_F(EnsurePluginsTest, AMissingPluginComesFromTheRegistryAsItsAliasAndIsEnabled) {
  RegistryHolds(std::string(TelepresenceVersion()));
  docker_.plugins = {{"teleroute:latest", true}};
  Status status = Ensure(std::string(kRegistry));
  ASSERT_TRUE(status.ok()) << status.error().message;
  const std::string remote = PluginRemote(kRegistry, "telemount", TelepresenceVersion());
  EXPECT_EQ(docker_.plugin_pulls, std::vector<std::string>{remote + " as telemount:latest"});
  EXPECT_TRUE(docker_.plugins.at("telemount:latest"));
  EXPECT_TRUE(installer_.installs.empty());
  EXPECT_NE(err_.str().find("Installing the Docker plugin telemount:latest from " + remote),
            std::string::npos);
  EXPECT_NE(err_.str().find("granted: network host"), std::string::npos);
}

TEST_F(EnsurePluginsTest, ARegistryWithoutThePluginFailsSayingWhich) {
  docker_.plugins.clear();
  Status status = Ensure(std::string(kRegistry));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("127.0.0.1:5000/tp/teleroute:"), std::string::npos);
}

TEST_F(EnsurePluginsTest, AnotherVersionIsReportedWithTheCommandThatUpgradesIt) {
  docker_.plugin_versions["telemount:latest"] = "0.0.9";
  Status status = Ensure(std::string(kRegistry));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("telemount:latest is version 0.0.9"), std::string::npos);
  EXPECT_NE(status.error().message.find(
                "telepresence connect --docker --upgrade-plugins --plugin-registry " +
                std::string(kRegistry)),
            std::string::npos)
      << status.error().message;
  EXPECT_TRUE(docker_.plugin_upgrades.empty());
  EXPECT_TRUE(docker_.disabled_plugins.empty());
}

TEST_F(EnsurePluginsTest, UpgradeDisablesUpgradesInPlaceAndEnables) {
  RegistryHolds(std::string(TelepresenceVersion()));
  docker_.plugin_versions["telemount:latest"] = "0.0.9";
  Status status = Ensure(std::string(kRegistry), /*upgrade=*/true);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(docker_.disabled_plugins, std::vector<std::string>{"telemount:latest (forced)"});
  EXPECT_EQ(docker_.plugin_upgrades,
            std::vector<std::string>{"telemount:latest to " +
                                     PluginRemote(kRegistry, "telemount", TelepresenceVersion())});
  EXPECT_TRUE(docker_.plugins.at("telemount:latest"));
  EXPECT_EQ(docker_.plugin_versions.at("telemount:latest"), TelepresenceVersion());
}

TEST_F(EnsurePluginsTest, UpgradeWithoutARegistrySaysOneIsNeeded) {
  docker_.plugin_versions["teleroute:latest"] = "";
  Status status = Ensure(std::nullopt, /*upgrade=*/true);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("of no known version"), std::string::npos);
  EXPECT_NE(status.error().message.find("needs a registry"), std::string::npos);
}

TEST(ScriptPluginInstallerTest, OutsideABuildTreeSaysWhatToRun) {
  ScriptPluginInstaller installer(std::nullopt);
  Status status = installer.Install({"teleroute:latest"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("--plugin-registry"), std::string::npos);
  EXPECT_NE(status.error().message.find("plugins install --from"), std::string::npos);
  EXPECT_NE(status.error().message.find("make plugins"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
