#include "cli/compose_override.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using nlohmann::json;

const DaemonPlacement kDaemon{.context_name = "default",
                              .network = "tp-default",
                              .dns = "10.200.0.2",
                              .dns_search = {"default.svc.cluster.local", "svc.cluster.local"},
                              .bridge_address = "172.17.0.2",
                              .bridge_gateway = "172.17.0.1"};

const ComposeService kLocalEcho{
    .name = "local-echo",
    .engagement = ServiceEngagement{.mode = EngagementMode::kReplace, .workload = "echo"}};

const EngagementGrant kGrant{.id = "e-1",
                             .container = "echo",
                             .ports = {8080, 9090},
                             .sftp_port = 40022,
                             .sftp_token = "0123456789abcdef0123456789abcdef",
                             .env = {{"ECHO_MESSAGE", "hello"}},
                             .mounts = {"/srv/echo-data", "/cache/"}};

TEST(ComposeOverrideTest, OneTelemountVolumePerRemoteMount) {
  ComposeService service = kLocalEcho;
  service.engagement->mounts = {{"/cache", MountPolicy::kRemoteReadOnly}};
  Result<std::vector<ComposeVolume>> volumes = PlanComposeVolumes("demo", service, kGrant, kDaemon);
  ASSERT_TRUE(volumes.ok()) << volumes.error().message;
  ASSERT_EQ(volumes.value().size(), 2u);
  const ComposeVolume& data = volumes.value()[0];
  EXPECT_EQ(data.mount_path, "/srv/echo-data");
  EXPECT_FALSE(data.read_only);
  EXPECT_EQ(data.spec.name, "tp-demo-local-echo-0");
  EXPECT_EQ(data.spec.driver, "telemount:latest");
  EXPECT_EQ(data.spec.driver_options,
            (std::map<std::string, std::string>{{"host", "172.17.0.2"},
                                                {"port", "40022"},
                                                {"path", "/echo/srv/echo-data"},
                                                {"token", kGrant.sftp_token}}));
  EXPECT_EQ(data.spec.labels, (docker::Labels{{"tp.daemon", "default"},
                                              {"telepresence.engagement", "e-1"},
                                              {"telepresence.compose.project", "demo"}}));
  const ComposeVolume& cache = volumes.value()[1];
  EXPECT_EQ(cache.spec.name, "tp-demo-local-echo-1");
  EXPECT_EQ(cache.mount_path, "/cache");
  EXPECT_TRUE(cache.read_only);
  EXPECT_EQ(cache.spec.driver_options.at("ro"), "true");
}

TEST(ComposeOverrideTest, LocalMountsGetNoVolumeAndUnknownOnesAreRefused) {
  ComposeService service = kLocalEcho;
  service.engagement->mounts = {{"/srv/echo-data", MountPolicy::kLocal}};
  Result<std::vector<ComposeVolume>> volumes = PlanComposeVolumes("demo", service, kGrant, kDaemon);
  ASSERT_TRUE(volumes.ok());
  ASSERT_EQ(volumes.value().size(), 1u);
  EXPECT_EQ(volumes.value()[0].mount_path, "/cache");

  service.engagement->mounts = {{"/nope", MountPolicy::kRemote}};
  Result<std::vector<ComposeVolume>> refused = PlanComposeVolumes("demo", service, kGrant, kDaemon);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "the service local-echo's x-tele names the mount /nope, which the workload echo does "
            "not have; its mounts are /srv/echo-data, /cache/ (telepresence list shows them)");
}

TEST(ComposeOverrideTest, TheWorkloadsPoliciesWinOverWiderRules) {
  ComposeService service = kLocalEcho;
  service.engagement->mounts = {{"/srv/echo-data", MountPolicy::kRemote}};
  EngagementGrant grant = kGrant;
  grant.mount_policies = {{"/srv/echo-data", MountPolicy::kRemoteReadOnly},
                          {"/cache/", MountPolicy::kLocal}};
  Result<std::vector<ComposeVolume>> volumes = PlanComposeVolumes("demo", service, grant, kDaemon);
  ASSERT_TRUE(volumes.ok()) << volumes.error().message;
  ASSERT_EQ(volumes.value().size(), 1u) << "the workload's Local mount gets no volume";
  EXPECT_EQ(volumes.value()[0].mount_path, "/srv/echo-data");
  EXPECT_TRUE(volumes.value()[0].read_only) << "remote in the compose file, RemoteReadOnly in "
                                               "the workload: read-only";
}

TEST(ComposeOverrideTest, TheDocument) {
  ComposeProject project{.services = {kLocalEcho, ComposeService{.name = "caller"},
                                      ComposeService{.name = "own", .has_networks = true},
                                      ComposeService{.name = "host", .has_network_mode = true}}};
  ComposeService read_only = kLocalEcho;
  read_only.engagement->mounts = {{"/cache", MountPolicy::kRemoteReadOnly}};
  Result<std::vector<ComposeVolume>> volumes =
      PlanComposeVolumes("demo", read_only, kGrant, kDaemon);
  ASSERT_TRUE(volumes.ok());
  const json document =
      ComposeOverride(project, kDaemon,
                      {{"local-echo", EngagedService{.engagement_id = "e-1",
                                                     .env_file = "/state/local-echo.env",
                                                     .volumes = volumes.value()}}});
  const json connected = {
      {"networks", {{"default", json::object()}, {"tp-default", json::object()}}},
      {"dns", {"10.200.0.2"}},
      {"dns_search", {"default.svc.cluster.local", "svc.cluster.local"}},
      {"dns_opt", {"ndots:5"}},
      {"labels", {{"tp.daemon", "default"}}}};
  json engaged = connected;
  engaged["labels"]["telepresence.engagement"] = "e-1";
  engaged["env_file"] = {"/state/local-echo.env"};
  engaged["volumes"] = {"tp-demo-local-echo-0:/srv/echo-data", "tp-demo-local-echo-1:/cache:ro"};
  json own = connected;
  own["networks"] = {{"tp-default", json::object()}};
  const json expected = {
      {"services", {{"local-echo", engaged}, {"caller", connected}, {"own", own}}},
      {"networks", {{"tp-default", {{"external", true}, {"name", "tp-default"}}}}},
      {"volumes",
       {{"tp-demo-local-echo-0", {{"external", true}, {"name", "tp-demo-local-echo-0"}}},
        {"tp-demo-local-echo-1", {{"external", true}, {"name", "tp-demo-local-echo-1"}}}}}};
  EXPECT_EQ(document, expected) << document.dump(2);
}

TEST(ComposeOverrideTest, TheEngageCommandOfAService) {
  ComposeService service = kLocalEcho;
  service.engagement->mode = EngagementMode::kIntercept;
  service.engagement->ports = {{8080, 8081}};
  const EngageCommand command = EngageCommandFor(service);
  EXPECT_EQ(command.mode, EngagementMode::kIntercept);
  EXPECT_EQ(command.workload, "echo");
  EXPECT_EQ(command.name, "echo");
  EXPECT_EQ(command.ports, (std::vector<PortMapping>{{8080, 8081}}));
}

}  // namespace
}  // namespace tp::cli
