#include "cli/docker_run_args.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using Words = std::vector<std::string>;

TEST(DockerRunArgsTest, TheImageIsTheFirstWordThatIsNoFlagNorAValue) {
  auto split = SplitDockerRunArgs(
      {"-e", "A=1", "--env=B=2", "-it", "-v", "/a:/b", "-eC=3", "--rm", "-p8080:80", "img", "-x"});
  ASSERT_TRUE(split.ok()) << split.error().message;
  EXPECT_EQ(split.value().image, "img");
  EXPECT_EQ(split.value().image_args, Words{"-x"});
  EXPECT_EQ(split.value().flags.size(), 9u);
  split = SplitDockerRunArgs({"--name", "x", "--cap-add", "NET_ADMIN", "-w", "/w", "img"});
  ASSERT_TRUE(split.ok());
  EXPECT_EQ(split.value().image, "img");
  EXPECT_FALSE(SplitDockerRunArgs({"--rm", "-e", "X"}).ok());
  EXPECT_FALSE(SplitDockerRunArgs({}).ok());
}

TEST(DockerRunArgsTest, FlagsByLongNameAndMountedPaths) {
  auto flags = ReadDockerRunFlags({"-it", "--name=n", "-v", "data:/srv/x/", "--volume", "/tmp",
                                   "--mount", "type=volume,src=v,target=/m", "--tmpfs", "/t:rw"});
  EXPECT_TRUE(HasDockerRunFlag(flags, "--interactive"));
  EXPECT_TRUE(HasDockerRunFlag(flags, "--tty"));
  EXPECT_TRUE(HasDockerRunFlag(flags, "--name"));
  EXPECT_FALSE(HasDockerRunFlag(flags, "--rm"));
  EXPECT_EQ(MountedContainerPaths(flags), (Words{"/srv/x", "/tmp", "/m", "/t"}));
}

}  // namespace
}  // namespace tp::cli
