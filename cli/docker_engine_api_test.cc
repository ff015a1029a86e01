// DockerEngineApi against the real dockerd (label docker): what connect relies on, the stop watch
// on Docker's events and the control endpoint read from a real container. Containers carry the
// label tp.engine-api-test=<pid> and are removed at the end, also after a failure.
#include "cli/docker_engine_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace tp::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr char kImage[] = "tp-busybox:latest";

// Whether `condition` held within `deadline` (looked at every 10 ms: the watch does no I/O).
template <typename Condition>
bool Within(milliseconds deadline, Condition condition) {
  const auto end = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

class DockerEngineApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto docker = DockerEngineApi::FromEnvironment();
    Result<bool> image = docker->ImageExists(kImage);
    ASSERT_TRUE(image.ok()) << image.error().message;
    if (image.value()) return;
    std::string build = std::string(TP_SOURCE_DIR) + "/scripts/build-images.sh " + TP_BINARY_DIR +
                        " tp-busybox >/dev/null";
    ASSERT_EQ(std::system(build.c_str()), 0) << build;
  }

  void SetUp() override { docker_ = DockerEngineApi::FromEnvironment(); }

  void TearDown() override {
    if (!docker_) return;
    Result<std::vector<std::string>> mine =
        docker_->ListLabelled(DockerResource::kContainer, label_);
    ASSERT_TRUE(mine.ok()) << mine.error().message;
    EXPECT_TRUE(docker_->Remove(DockerResource::kContainer, mine.value()).ok());
  }

  docker::ContainerSpec Busybox(const std::string& name, std::string script) const {
    return {.name = prefix_ + name,
            .image = kImage,
            .cmd = {"sh", "-c", std::move(script)},
            .labels = {{"tp.engine-api-test", std::to_string(::getpid())}}};
  }

  std::unique_ptr<DockerEngineApi> docker_;
  const std::string prefix_ = "tp-engine-api-test-" + std::to_string(::getpid()) + "-";
  const std::string label_ = "tp.engine-api-test=" + std::to_string(::getpid());
};

TEST_F(DockerEngineApiTest, WatchSeesARemovedContainer) {
  Result<std::string> id = docker_->RunDetached(Busybox("removed", "sleep 60"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  Result<std::unique_ptr<ContainerWatch>> watch = docker_->WatchContainer(id.value());
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  EXPECT_FALSE(watch.value()->Stopped()) << "it runs";
  ASSERT_TRUE(docker_->Remove(DockerResource::kContainer, {prefix_ + "removed"}).ok());
  EXPECT_TRUE(Within(seconds(10), [&] { return watch.value()->Stopped(); }));
}

TEST_F(DockerEngineApiTest, WatchCountsAnExitJustBeforeItBegan) {
  Result<std::string> id = docker_->RunDetached(Busybox("exited", "exit 1"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(Within(seconds(10), [&] {
    Result<std::optional<std::string>> state = docker_->ContainerState(prefix_ + "exited");
    return state.ok() && state.value() == "exited";
  }));
  Result<std::unique_ptr<ContainerWatch>> watch = docker_->WatchContainer(id.value());
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  EXPECT_TRUE(Within(seconds(10), [&] { return watch.value()->Stopped(); }));
}

TEST_F(DockerEngineApiTest, WatchKeepsTheLastLogLinesOfAStoppedContainer) {
  // 20 lines to stderr (where the daemon logs), the last one unfinished; then it exits. (One
  // stream only: Docker may reorder lines of stdout and stderr written close together.)
  Result<std::string> id = docker_->RunDetached(
      Busybox("talker",
              "i=1; while [ $i -le 19 ]; do echo line $i >&2; i=$((i + 1)); done; "
              "printf 'line 20' >&2; exit 3"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  Result<std::unique_ptr<ContainerWatch>> watch = docker_->WatchContainer(id.value());
  ASSERT_TRUE(watch.ok()) << watch.error().message;
  ASSERT_TRUE(Within(seconds(10), [&] { return watch.value()->Stopped(); }));
  std::vector<std::string> expected;
  for (int line = 21 - static_cast<int>(ContainerWatch::kLogLines); line <= 20; ++line) {
    expected.push_back("line " + std::to_string(line));
  }
  EXPECT_EQ(watch.value()->LastLogLines(), expected);
}

TEST_F(DockerEngineApiTest, ControlEndpointIsTheLoopbackPortAndTheTokenOfARealContainer) {
  docker::ContainerSpec spec = Busybox("endpoint", "sleep 60");
  spec.env = {"TP_CONTROL_TOKEN=abc123"};
  spec.ports = {{std::to_string(kDaemonControlPort) + "/tcp", "127.0.0.1", ""}};
  ASSERT_TRUE(docker_->RunDetached(spec).ok());
  Result<DaemonEndpoint> endpoint = docker_->ControlEndpoint(prefix_ + "endpoint");
  ASSERT_TRUE(endpoint.ok()) << endpoint.error().message;
  EXPECT_GT(endpoint.value().port, 0);
  EXPECT_EQ(endpoint.value().token, "abc123");
  EXPECT_FALSE(docker_->ControlEndpoint(prefix_ + "missing").ok());
}

}  // namespace
}  // namespace tp::cli
