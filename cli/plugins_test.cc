#include "cli/plugins.h"

#include <gtest/gtest.h>

#include <sstream>

#include "cli/test_fakes.h"

namespace tp::cli {
namespace {

using testing::FakeDocker;
using testing::FakePluginInstaller;

const std::vector<std::string> kBoth{"teleroute:latest", "telemount:latest"};

TEST(EnsurePluginsTest, NothingToDoWhenEnabled) {
  FakeDocker docker;
  FakePluginInstaller installer;
  std::ostringstream err;
  EXPECT_TRUE(EnsurePlugins(docker, installer, kBoth, err).ok());
  EXPECT_TRUE(installer.installs.empty());
  EXPECT_TRUE(docker.enabled_plugins.empty());
  EXPECT_EQ(err.str(), "");
}

TEST(EnsurePluginsTest, InstallsOnceAndEnablesWhatIsLeftDisabled) {
  FakeDocker docker;
  docker.plugins.clear();
  FakePluginInstaller installer;
  installer.install = [&docker](const std::vector<std::string>&) {
    docker.plugins = {{"teleroute:latest", true}, {"telemount:latest", false}};
    return Status(Ok{});
  };
  std::ostringstream err;
  Status status = EnsurePlugins(docker, installer, kBoth, err);
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(installer.installs, std::vector<std::vector<std::string>>{kBoth});
  EXPECT_EQ(docker.enabled_plugins, std::vector<std::string>{"telemount:latest"});
}

TEST(EnsurePluginsTest, FailsWhenTheInstallationDidNotInstall) {
  FakeDocker docker;
  docker.plugins = {{"telemount:latest", true}};
  FakePluginInstaller installer;
  std::ostringstream err;
  Status status = EnsurePlugins(docker, installer, kBoth, err);
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("teleroute:latest is still not installed"),
            std::string::npos);
}

TEST(ScriptPluginInstallerTest, OutsideABuildTreeSaysToRunMakePlugins) {
  ScriptPluginInstaller installer(std::nullopt);
  Status status = installer.Install({"teleroute:latest"});
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message.find("make plugins"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
