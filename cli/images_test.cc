#include "cli/images.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "cli/test_fakes.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using testing::FakeDocker;
using testing::FakeImageBuilder;

auto FilesAre(std::set<std::string> files) {
  return [files = std::move(files)](const fs::path& path) { return files.contains(path.string()); };
}

TEST(FindImageBuildScriptTest, ReleaseAndAsanBuildTrees) {
  auto is_file = FilesAre({"/repo/scripts/build-images.sh", "/repo/build/bin/telepresence-daemon",
                           "/repo/build/asan/bin/telepresence-daemon"});
  std::optional<ImageBuildScript> release =
      FindImageBuildScript("/repo/build/bin/telepresence", is_file);
  ASSERT_TRUE(release);
  EXPECT_EQ(release->script, "/repo/scripts/build-images.sh");
  EXPECT_EQ(release->build_dir, "/repo/build");
  std::optional<ImageBuildScript> asan =
      FindImageBuildScript("/repo/build/asan/bin/telepresence", is_file);
  ASSERT_TRUE(asan);
  EXPECT_EQ(asan->script, "/repo/scripts/build-images.sh");
  EXPECT_EQ(asan->build_dir, "/repo/build/asan");
}

TEST(FindImageBuildScriptTest, NothingOutsideABuildTree) {
  EXPECT_FALSE(
      FindImageBuildScript("/usr/bin/telepresence", FilesAre({"/scripts/build-images.sh"})));
  EXPECT_FALSE(FindImageBuildScript("/repo/build/bin/telepresence",
                                    FilesAre({"/repo/build/bin/telepresence-daemon"})));
  EXPECT_FALSE(FindImageBuildScript("telepresence", FilesAre({})));
}

TEST(ImageBaseNameTest, DropsTheTag) {
  EXPECT_EQ(ImageBaseName("tp-daemon:latest"), "tp-daemon");
  EXPECT_EQ(ImageBaseName("tp-curl"), "tp-curl");
}

TEST(ScriptImageBuilderTest, WithoutAScriptSaysToRunMakeImages) {
  ScriptImageBuilder builder(std::nullopt);
  Status built = builder.Build({"tp-daemon:latest", "tp-curl:latest"});
  ASSERT_FALSE(built.ok());
  EXPECT_NE(built.error().message.find("make images"), std::string::npos);
  EXPECT_NE(built.error().message.find("tp-daemon tp-curl"), std::string::npos);
}

TEST(EnsureImagesTest, BuildsOnlyTheMissingOnesAndChecksAgain) {
  FakeDocker docker;
  docker.images = {"tp-curl:latest"};
  FakeImageBuilder builder;
  std::ostringstream err;
  Status ensured = EnsureImages(docker, builder, {"tp-daemon:latest", "tp-curl:latest"}, err);
  ASSERT_FALSE(ensured.ok());  // the fake builder builds nothing
  EXPECT_NE(ensured.error().message.find("still missing"), std::string::npos);
  EXPECT_EQ(builder.builds, std::vector<std::vector<std::string>>{{"tp-daemon:latest"}});
  EXPECT_EQ(err.str(), "Building the missing image tp-daemon:latest ...\n");

  docker.images.insert("tp-daemon:latest");
  err.str("");
  EXPECT_TRUE(EnsureImages(docker, builder, {"tp-daemon:latest", "tp-curl:latest"}, err).ok());
  EXPECT_EQ(err.str(), "");
  EXPECT_EQ(builder.builds.size(), 1u);
}

}  // namespace
}  // namespace tp::cli
