// EngineClient against the real dockerd (scripts/ensure-dockerd.sh starts it). Every object it
// creates carries the label tp.engine-test=<pid> and is removed in TearDown, also after a failure.
#include "docker_engine/engine_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <thread>

namespace tp::docker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::string_view kImage = "tp-busybox:latest";
constexpr std::string_view kTestLabel = "tp.engine-test";

EngineClient ClientFromEnvironment() {
  const char* host = std::getenv("DOCKER_HOST");
  EngineResult<EngineClient> client =
      EngineClient::ForDockerHost(host ? std::optional<std::string_view>(host) : std::nullopt);
  if (!client.ok()) throw std::runtime_error(client.error().message);
  return client.value();
}

class EngineClientIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineClient client = ClientFromEnvironment();
    EngineResult<std::optional<ImageInfo>> image = client.InspectImage(kImage);
    ASSERT_TRUE(image.ok()) << image.error().message;
    if (image.value()) return;
    std::string build = std::string(TP_SOURCE_DIR) + "/scripts/build-images.sh " + TP_BINARY_DIR +
                        " tp-busybox >/dev/null";
    ASSERT_EQ(std::system(build.c_str()), 0) << build;
  }

  void TearDown() override {
    Filters mine{{"label", {LabelFilter()}}};
    if (auto containers = client_.ListContainers(mine); containers.ok()) {
      for (const ContainerSummary& container : containers.value()) {
        EXPECT_TRUE(client_.RemoveContainer(container.id, /*force=*/true).ok());
      }
    }
    if (auto networks = client_.ListNetworks(mine); networks.ok()) {
      for (const NetworkInfo& network : networks.value()) {
        EXPECT_TRUE(client_.RemoveNetwork(network.id).ok());
      }
    }
    if (auto volumes = client_.ListVolumes(mine); volumes.ok()) {
      for (const VolumeInfo& volume : volumes.value()) {
        EXPECT_TRUE(client_.RemoveVolume(volume.name, /*force=*/true).ok());
      }
    }
  }

  std::string Name(std::string_view what) const { return prefix_ + std::string(what); }
  std::string LabelFilter() const { return std::string(kTestLabel) + "=" + label_value_; }
  Labels TestLabels() const { return {{std::string(kTestLabel), label_value_}}; }

  ContainerSpec Busybox(std::string_view name, std::string script) const {
    return ContainerSpec{.name = Name(name),
                         .image = std::string(kImage),
                         .cmd = {"sh", "-c", std::move(script)},
                         .labels = TestLabels()};
  }

  EngineClient client_ = ClientFromEnvironment();
  const std::string label_value_ = std::to_string(::getpid());
  const std::string prefix_ = "tp-engine-test-" + label_value_ + "-";
};

TEST_F(EngineClientIntegrationTest, TellsItsApiVersion) {
  EngineResult<std::string> version = client_.ApiVersion();
  ASSERT_TRUE(version.ok()) << version.error().message;
  EXPECT_TRUE(version.value().starts_with("1.")) << version.value();
}

TEST_F(EngineClientIntegrationTest, RunsWaitsReadsLogsAndRemovesAContainer) {
  EngineResult<std::string> id =
      client_.RunContainer(Busybox("exit3", "echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  EngineResult<int> exit_code = client_.WaitContainer(id.value(), seconds(20));
  ASSERT_TRUE(exit_code.ok()) << exit_code.error().message;
  EXPECT_EQ(exit_code.value(), 3);

  std::string out, err;
  EngineStatus logs =
      client_.Logs(id.value(), /*follow=*/false, seconds(10), [&](const LogDemuxer::Frame& frame) {
        (frame.stream == LogDemuxer::Stream::kStderr ? err : out) += frame.payload;
        return true;
      });
  ASSERT_TRUE(logs.ok()) << logs.error().message;
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");

  EngineResult<std::optional<ContainerInfo>> info = client_.InspectContainer(Name("exit3"));
  ASSERT_TRUE(info.ok() && info.value()) << (info.ok() ? "gone" : info.error().message);
  EXPECT_EQ(info.value()->state, "exited");
  EXPECT_EQ(info.value()->exit_code, 3);

  EngineResult<std::vector<ContainerSummary>> listed =
      client_.ListContainers({{"label", {LabelFilter()}}});
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed.value().size(), 1u);
  EXPECT_EQ(listed.value()[0].name, Name("exit3"));

  ASSERT_TRUE(client_.RemoveContainer(id.value(), /*force=*/false).ok());
  EngineResult<std::optional<ContainerInfo>> gone = client_.InspectContainer(id.value());
  ASSERT_TRUE(gone.ok()) << gone.error().message;
  EXPECT_FALSE(gone.value());
  EXPECT_TRUE(client_.RemoveContainer(id.value(), true).ok()) << "removing it twice succeeds";
}

TEST_F(EngineClientIntegrationTest, PublishesPortsPassesEnvAndStops) {
  ContainerSpec spec = Busybox("stoppable", "trap 'exit 0' TERM; sleep 60 & wait");
  spec.env = {"TP_TEST_VALUE=42"};
  spec.ports = {{"80/tcp", "127.0.0.1", ""}};
  EngineResult<std::string> id = client_.RunContainer(spec);
  ASSERT_TRUE(id.ok()) << id.error().message;
  EngineResult<std::optional<ContainerInfo>> info = client_.InspectContainer(id.value());
  ASSERT_TRUE(info.ok() && info.value());
  EXPECT_EQ(info.value()->state, "running");
  ASSERT_EQ(info.value()->published_ports.size(), 1u);
  EXPECT_EQ(info.value()->published_ports[0].host_ip, "127.0.0.1");
  EXPECT_NE(info.value()->published_ports[0].host_port, "");
  EXPECT_NE(std::find(info.value()->env.begin(), info.value()->env.end(), "TP_TEST_VALUE=42"),
            info.value()->env.end());

  ASSERT_TRUE(client_.StopContainer(id.value(), seconds(10)).ok());
  EngineResult<std::optional<ContainerInfo>> stopped = client_.InspectContainer(id.value());
  ASSERT_TRUE(stopped.ok() && stopped.value());
  EXPECT_EQ(stopped.value()->state, "exited");
  EXPECT_TRUE(client_.StopContainer(Name("never-was"), seconds(1)).ok());
}

TEST_F(EngineClientIntegrationTest, EventsReplayADeathThatCameBeforeTheSubscription) {
  const auto before = std::chrono::system_clock::now() - seconds(1);
  EngineResult<std::string> id = client_.RunContainer(Busybox("dies", "exit 0"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(client_.WaitContainer(id.value(), seconds(20)).ok());
  std::optional<EngineEvent> died;
  EngineStatus streamed =
      client_.Events({{"type", {"container"}}, {"container", {id.value()}}, {"event", {"die"}}},
                     before, seconds(10), [&](const EngineEvent& event) {
                       died = event;
                       return false;
                     });
  ASSERT_TRUE(streamed.ok()) << streamed.error().message;
  ASSERT_TRUE(died);
  EXPECT_EQ(died->actor_id, id.value());
  EXPECT_EQ(died->attributes.at("exitCode"), "0");
}

TEST_F(EngineClientIntegrationTest, EventStreamsEndAtTheirDeadlineOrWhenCancelled) {
  const Filters nothing{{"container", {Name("no-such-container")}}};
  const auto start = std::chrono::steady_clock::now();
  EngineStatus timed_out =
      client_.Events(nothing, std::chrono::system_clock::now(), milliseconds(300),
                     [](const EngineEvent&) { return true; });
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.error().kind, EngineErrorKind::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(5));

  StreamCancel cancel;
  EngineStatus cancelled = EngineError{};
  std::thread stream([&] {
    cancelled = client_.Events(
        nothing, std::chrono::system_clock::now(), seconds(60),
        [](const EngineEvent&) { return true; }, &cancel);
  });
  cancel.Cancel();
  const auto cancelled_at = std::chrono::steady_clock::now();
  stream.join();
  EXPECT_LT(std::chrono::steady_clock::now() - cancelled_at, seconds(5));
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error().kind, EngineErrorKind::kCancelled);
}

TEST_F(EngineClientIntegrationTest, ImagesAreFoundByNameAndNeverPulled) {
  EngineResult<std::optional<ImageInfo>> present = client_.InspectImage(kImage);
  ASSERT_TRUE(present.ok()) << present.error().message;
  EXPECT_TRUE(present.value());
  EngineResult<std::optional<ImageInfo>> absent = client_.InspectImage(Name("absent:latest"));
  ASSERT_TRUE(absent.ok()) << absent.error().message;
  EXPECT_FALSE(absent.value());
  ContainerSpec spec = Busybox("no-image", "true");
  spec.image = Name("absent:latest");
  EngineResult<std::string> created = client_.CreateContainer(spec);
  ASSERT_FALSE(created.ok());
  EXPECT_EQ(created.error().kind, EngineErrorKind::kNotFound);
  EXPECT_NE(created.error().message.find("No such image"), std::string::npos)
      << created.error().message;
}

TEST_F(EngineClientIntegrationTest, NetworksAreCreatedJoinedInspectedAndRemoved) {
  EngineResult<std::string> network =
      client_.CreateNetwork({.name = Name("net"), .labels = TestLabels()});
  ASSERT_TRUE(network.ok()) << network.error().message;
  EngineResult<std::string> id = client_.RunContainer(Busybox("member", "sleep 60"));
  ASSERT_TRUE(id.ok()) << id.error().message;
  ASSERT_TRUE(client_.ConnectNetwork(Name("net"), id.value(), "").ok());
  EngineResult<std::optional<NetworkInfo>> found = client_.InspectNetwork(Name("net"));
  ASSERT_TRUE(found.ok() && found.value()) << (found.ok() ? "missing" : found.error().message);
  EXPECT_EQ(found.value()->labels.at(std::string(kTestLabel)), label_value_);
  ASSERT_EQ(found.value()->containers.size(), 1u);
  EXPECT_EQ(found.value()->containers[0].name, Name("member"));
  EngineResult<std::vector<NetworkInfo>> listed =
      client_.ListNetworks({{"label", {LabelFilter()}}});
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed.value().size(), 1u);

  EngineStatus busy = client_.RemoveNetwork(Name("net"));
  ASSERT_FALSE(busy.ok()) << "a network in use cannot be removed";
  EXPECT_NE(busy.error().message.find("active endpoints"), std::string::npos)
      << busy.error().message;
  ASSERT_TRUE(client_.DisconnectNetwork(Name("net"), id.value(), /*force=*/true).ok());
  ASSERT_TRUE(client_.RemoveNetwork(Name("net")).ok());
  EngineResult<std::optional<NetworkInfo>> gone = client_.InspectNetwork(Name("net"));
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone.value());
}

TEST_F(EngineClientIntegrationTest, VolumesAreCreatedListedByLabelAndRemoved) {
  ASSERT_TRUE(client_.CreateVolume({.name = Name("vol"), .labels = TestLabels()}).ok());
  EngineResult<std::vector<VolumeInfo>> listed = client_.ListVolumes({{"label", {LabelFilter()}}});
  ASSERT_TRUE(listed.ok()) << listed.error().message;
  ASSERT_EQ(listed.value().size(), 1u);
  EXPECT_EQ(listed.value()[0].name, Name("vol"));
  ASSERT_TRUE(client_.RemoveVolume(Name("vol"), false).ok());
  EngineResult<std::vector<VolumeInfo>> after = client_.ListVolumes({{"label", {LabelFilter()}}});
  ASSERT_TRUE(after.ok());
  EXPECT_TRUE(after.value().empty());
}

TEST_F(EngineClientIntegrationTest, PluginsAreListedAndAMissingOneIsNotFound) {
  EngineResult<std::vector<PluginInfo>> plugins = client_.ListPlugins();
  ASSERT_TRUE(plugins.ok()) << plugins.error().message;
  for (const PluginInfo& plugin : plugins.value()) {
    EngineResult<std::optional<PluginInfo>> same = client_.InspectPlugin(plugin.name);
    ASSERT_TRUE(same.ok() && same.value()) << plugin.name;
    EXPECT_EQ(same.value()->enabled, plugin.enabled);
  }
  EngineResult<std::optional<PluginInfo>> missing = client_.InspectPlugin(Name("plugin:latest"));
  ASSERT_TRUE(missing.ok()) << missing.error().message;
  EXPECT_FALSE(missing.value());
}

}  // namespace
}  // namespace tp::docker
