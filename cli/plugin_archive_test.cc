#include "cli/plugin_archive.h"

#include <gtest/gtest.h>

#include "cli/process.h"
#include "cli/test_temp_dir.h"

namespace tp::cli {
namespace {

using testing::FixedEnvironment;
using testing::TempDir;
using testing::WriteFile;

class PluginArchiveTest : public ::testing::Test {
 protected:
  // Packs `top` (a folder under the temp dir) into release.tar.gz with real tar.
  std::filesystem::path Pack(const std::string& top) {
    const std::filesystem::path file = dir_.path() / "release.tar.gz";
    Result<CapturedOutput> packed =
        RunCaptured({"tar", "-czf", file.string(), "-C", (dir_.path() / "src").string(), top},
                    std::chrono::seconds(30));
    EXPECT_TRUE(packed.ok() && packed.value().exit_code == 0);
    return file;
  }
  Result<PluginArchive> Read(const std::filesystem::path& file) {
    return ReadPluginArchive(file, FixedEnvironment({{"TMPDIR", dir_.path().string()}}));
  }
  size_t EntriesInTempDir() {
    size_t count = 0;
    for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
      ++count;
    }
    return count;
  }

  TempDir dir_;
};

TEST_F(PluginArchiveTest, ReadsTheVersionAndBothPluginsAndLeavesNoTemporaryFolder) {
  const std::filesystem::path release = dir_.path() / "src" / "telepresence-docker-0.3.0";
  WriteFile(release / "VERSION", "0.3.0\n");
  WriteFile(release / "plugins" / "teleroute.tar", "route tar");
  WriteFile(release / "plugins" / "telemount.tar", "mount tar");
  WriteFile(release / "bin" / "telepresence", "not read");
  const std::filesystem::path file = Pack("telepresence-docker-0.3.0");
  const size_t entries_before = EntriesInTempDir();
  Result<PluginArchive> archive = Read(file);
  ASSERT_TRUE(archive.ok()) << archive.error().message;
  EXPECT_EQ(archive.value().version, "0.3.0");
  EXPECT_EQ(archive.value().plugins.at("teleroute"), "route tar");
  EXPECT_EQ(archive.value().plugins.at("telemount"), "mount tar");
  EXPECT_EQ(EntriesInTempDir(), entries_before);
}

TEST_F(PluginArchiveTest, AFileWithoutThePluginsIsNotAReleaseFile) {
  const std::filesystem::path release = dir_.path() / "src" / "telepresence-docker-0.3.0";
  WriteFile(release / "VERSION", "0.3.0\n");
  WriteFile(release / "plugins" / "teleroute.tar", "route tar");
  Result<PluginArchive> archive = Read(Pack("telepresence-docker-0.3.0"));
  ASSERT_FALSE(archive.ok());
  EXPECT_NE(archive.error().message.find("release file of make dist"), std::string::npos)
      << archive.error().message;
}

TEST_F(PluginArchiveTest, MissingAndNonTarFilesSaySo) {
  Result<PluginArchive> missing = Read(dir_.path() / "nope.tar.gz");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("no file"), std::string::npos);
  WriteFile(dir_.path() / "text.tar.gz", "just text");
  Result<PluginArchive> text = Read(dir_.path() / "text.tar.gz");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.error().message.find("release file of make dist"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
