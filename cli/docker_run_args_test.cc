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
  EXPECT_EQ(flags.front().name, "--interactive");
  EXPECT_EQ(flags[1].name, "--tty");
  EXPECT_EQ(flags[2].name, "--name");
  EXPECT_EQ(flags[2].value, "n");
  EXPECT_EQ(MountedContainerPaths(flags), (Words{"/srv/x", "/tmp", "/m", "/t"}));
}

TEST(DockerRunArgsTest, SplittingReadsTheTypedOptionsOnce) {
  auto split = SplitDockerRunArgs({"-it",
                                   "--name",
                                   "n",
                                   "--net=host",
                                   "-e",
                                   "A=1",
                                   "--env=B",
                                   "--env-file",
                                   "f.env",
                                   "-v",
                                   "/h:/c:ro",
                                   "--mount",
                                   "type=tmpfs,dst=/m",
                                   "-p8080:80",
                                   "--publish",
                                   "9090:90",
                                   "--entrypoint",
                                   "/bin/sh",
                                   "--rm",
                                   "img",
                                   "-d"});
  ASSERT_TRUE(split.ok()) << split.error().message;
  const DockerRunOptions& options = split.value().options;
  EXPECT_EQ(options.name, "n");
  EXPECT_EQ(options.network, "host");
  EXPECT_EQ(options.env, (Words{"A=1", "B"}));
  EXPECT_EQ(options.env_files, Words{"f.env"});
  EXPECT_EQ(options.volumes, Words{"/h:/c:ro"});
  EXPECT_EQ(options.mounts, Words{"type=tmpfs,dst=/m"});
  EXPECT_EQ(options.publish, (Words{"8080:80", "9090:90"}));
  EXPECT_EQ(options.entrypoint, "/bin/sh");
  EXPECT_EQ(options.remove, true);
  EXPECT_TRUE(options.interactive);
  EXPECT_TRUE(options.tty);
  EXPECT_FALSE(options.detach);  // -d after the image is the container's argument
  EXPECT_EQ(options.mounted_paths, (Words{"/c", "/m"}));
  // The words stay verbatim.
  EXPECT_EQ(split.value().flags.front(), "-it");
  EXPECT_EQ(split.value().flags.size(), 19u);
}

TEST(DockerRunArgsTest, SwitchesSayFalseOnlyWhenGivenSo) {
  auto options = ReadDockerRunOptions(ReadDockerRunFlags({"--rm=false", "--detach=false"}));
  EXPECT_EQ(options.remove, false);
  EXPECT_FALSE(options.detach);
  options = ReadDockerRunOptions(ReadDockerRunFlags({"-d", "--network", "a", "--net", "b"}));
  EXPECT_EQ(options.remove, std::nullopt);
  EXPECT_TRUE(options.detach);
  EXPECT_EQ(options.network, "b");
}

}  // namespace
}  // namespace tp::cli
