#include "cli/engagement_plan.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using Ports = std::vector<uint16_t>;
using nlohmann::json;

TEST(EngagementPlanTest, PortsPerMode) {
  const Ports workload{8080, 9090};
  EXPECT_EQ(ResolvePorts(EngagementMode::kReplace, {}, workload),
            (EngagedPorts{{8080, 9090}, {{8080, 8080}, {9090, 9090}}}));
  // --port LOCAL:CONTAINER: the workload's port LOCAL goes to the handler's port CONTAINER; the
  // ports no --port names go to the same port number.
  EXPECT_EQ(ResolvePorts(EngagementMode::kReplace, {{9090, 9191}}, workload),
            (EngagedPorts{{8080, 9090}, {{8080, 8080}, {9090, 9191}}}));
  EXPECT_EQ(ResolvePorts(EngagementMode::kIntercept, {}, workload),
            (EngagedPorts{{8080}, {{8080, 8080}}}));
  EXPECT_EQ(ResolvePorts(EngagementMode::kIntercept, {{9090, 9090}}, workload),
            (EngagedPorts{{9090}, {{9090, 9090}}}));
  EXPECT_EQ(ResolvePorts(EngagementMode::kIntercept, {{8080, 8081}}, workload),
            (EngagedPorts{{8080}, {{8080, 8081}}}));
  // LOCAL is not a port of a workload with one port: that port goes to CONTAINER.
  EXPECT_EQ(ResolvePorts(EngagementMode::kIntercept, {{7000, 7001}}, Ports{8080}),
            (EngagedPorts{{8080}, {{8080, 7001}}}));
  EXPECT_EQ(ResolvePorts(EngagementMode::kWiretap, {{3000, 3000}}, Ports{8080}),
            (EngagedPorts{{8080}, {{8080, 3000}}}));
  // With several ports there is no guessing: 3000 is asked for, and the manager refuses it.
  EXPECT_EQ(ResolvePorts(EngagementMode::kWiretap, {{3000, 3000}}, workload),
            (EngagedPorts{{3000}, {{3000, 3000}}}));
  // An unknown workload (no ports): LOCAL is asked for, and the daemon says what is wrong.
  EXPECT_EQ(ResolvePorts(EngagementMode::kIntercept, {{3000, 3001}}, Ports{}),
            (EngagedPorts{{3000}, {{3000, 3001}}}));
  EXPECT_EQ(ResolvePorts(EngagementMode::kIngest, {}, workload), EngagedPorts{});
  EXPECT_EQ(HandlerRequest("10.200.0.130",
                           ResolvePorts(EngagementMode::kIntercept, {{8080, 8081}}, workload)),
            (json{{"address", "10.200.0.130"}, {"ports", {{"8080", 8081}}}}));
}

TEST(EngagementPlanTest, ContainerNameUsesTheFirstEngagedPort) {
  EXPECT_EQ(HandlerContainerName("echo", {9090}, {8080, 9090}), "intercept-echo-9090");
  EXPECT_EQ(HandlerContainerName("echo", {}, {8080, 9090}), "intercept-echo-8080");
  EXPECT_EQ(HandlerContainerName("echo", {}, {}), "intercept-echo");
}

EngageCommand Command(std::vector<std::string> docker_flags = {}) {
  EngageCommand command{.workload = "echo", .name = "echo"};
  command.docker_args = {.flags = std::move(docker_flags), .image = "busybox"};
  return command;
}

TEST(EngagementPlanTest, VolumesAreNamedPerMountAndSkipUserMounts) {
  const std::vector<std::string> mounts{"/srv/echo-data", "/var/cache"};
  auto volumes = PlanVolumes(Command(), mounts);
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-0", "/srv/echo-data", "/srv/echo-data"},
                                       {"tp-echo-1", "/var/cache", "/var/cache"}}));
  volumes = PlanVolumes(Command({"-v", "/host:/srv/echo-data"}), mounts);
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-1", "/var/cache", "/var/cache"}}));
  EngageCommand under = Command();
  under.docker_mount = "/remote/";
  under.mounts.only = "/var/cache";
  volumes = PlanVolumes(under, mounts);
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-1", "/var/cache", "/remote/var/cache"}}));
  EngageCommand none = Command();
  none.mounts.enabled = false;
  EXPECT_TRUE(PlanVolumes(none, mounts).value().empty());
  EngageCommand unknown = Command();
  unknown.mounts.only = "/nope";
  ASSERT_FALSE(PlanVolumes(unknown, mounts).ok());
  EXPECT_EQ(PlanVolumes(unknown, mounts).error().message,
            "the workload echo has no mount /nope; its mounts are /srv/echo-data, /var/cache "
            "(telepresence list shows them)");
}

TEST(EngagementPlanTest, VolumeCreateAndBuildCommands) {
  docker::VolumeSpec volume = VolumeCreateSpec({"tp-echo-0", "/srv/echo-data", "/srv/echo-data"},
                                               {"172.17.0.2", 40022, "echo"}, "default", "e-1");
  EXPECT_EQ(volume.name, "tp-echo-0");
  EXPECT_EQ(volume.driver, "telemount:latest");
  EXPECT_EQ(volume.driver_options,
            (std::map<std::string, std::string>{
                {"host", "172.17.0.2"}, {"port", "40022"}, {"path", "/echo/srv/echo-data"}}));
  EXPECT_EQ(volume.labels,
            (docker::Labels{{"tp.daemon", "default"}, {"telepresence.engagement", "e-1"}}));
  const std::string token = "0123456789abcdef0123456789abcdef";
  volume = VolumeCreateSpec({"tp-echo-0", "/srv/echo-data", "/srv/echo-data"},
                            {"172.17.0.2", 40022, "echo", token}, "default", "e-1");
  EXPECT_EQ(volume.driver_options.at("token"), token);
  EXPECT_EQ(DockerBuildCommand("-dir", {{"file", "D.dev"}, {"build-arg", "V=2"}}),
            (Argv{"env", "DOCKER_BUILDKIT=0", "docker", "build", "-q", "--file", "D.dev",
                  "--build-arg", "V=2", "./-dir"}));
}

HandlerRun SampleRun(bool debug = false) {
  return {.network = "tp-default",
          .dns = "10.200.0.2",
          .dns_search = {"default.svc.cluster.local"},
          .container_name = "intercept-echo-8080",
          .context_name = "default",
          .engagement_id = "e-1",
          .env_file = "/tmp/env",
          .volumes = {{"tp-echo-0", "/srv/echo-data", "/srv/echo-data"}},
          .debug = debug,
          .image = "busybox"};
}

TEST(EngagementPlanTest, HandlerRunMergesOurFlagsWithTheUsers) {
  EXPECT_EQ(
      HandlerRunCommand(SampleRun(), {.flags = {"-e", "A=1"}, .image = "x", .image_args = {"sh"}}),
      (Argv{"docker",
            "run",
            "--network",
            "tp-default",
            "--dns",
            "10.200.0.2",
            "--dns-search",
            "default.svc.cluster.local",
            "--dns-option",
            "ndots:5",
            "--rm",
            "--name",
            "intercept-echo-8080",
            "--label",
            "tp.daemon=default",
            "--label",
            "telepresence.engagement=e-1",
            "--env-file",
            "/tmp/env",
            "-v",
            "tp-echo-0:/srv/echo-data",
            "-e",
            "A=1",
            "busybox",
            "sh"}));
  // The user's --name and --rm are kept and not added twice; debug relaxes security.
  Argv argv = HandlerRunCommand(SampleRun(true), {.flags = {"--rm", "--name=mine"}, .image = "x"});
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--rm"), 1);
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "--name"), 0);
  EXPECT_NE(std::find(argv.begin(), argv.end(), "--name=mine"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "seccomp=unconfined"), argv.end());
  EXPECT_NE(std::find(argv.begin(), argv.end(), "SYS_PTRACE"), argv.end());
}

TEST(EngagementPlanTest, EnvFileAndWorkloadTable) {
  std::vector<std::string> skipped;
  EXPECT_EQ(EnvFileText({{"A", "1"}, {"B", "x y"}, {"C", "two\nlines"}}, &skipped), "A=1\nB=x y\n");
  EXPECT_EQ(skipped, std::vector<std::string>{"C"});
  skipped.clear();
  EXPECT_EQ(EnvFileText({{"A", "1"},
                         {"EVIL\nLD_PRELOAD", "/tmp/x.so"},
                         {"K=V", "1"},
                         {"", "empty"},
                         {"CR", "a\rb"},
                         {std::string("N\0L", 3), "1"}},
                        &skipped),
            "A=1\n");
  EXPECT_EQ(skipped.size(), 5u);
  auto workloads = ParseWorkloads(json::parse(
      R"({"workloads":[{"workload":"echo","ports":[8080,9090],"mounts":["/srv/echo-data"],
          "engagement":{"id":"e-1","mode":"intercept","ports":[8080],"name":"mine"}},
          {"workload":"db","ports":[5432],"engagement":null}]})"));
  ASSERT_TRUE(workloads.ok()) << workloads.error().message;
  EXPECT_EQ(FormatWorkloadTable(workloads.value()),
            "WORKLOAD  PORTS      ENGAGEMENT\n"
            "echo      8080,9090  mine (intercept 8080)\n"
            "db        5432       -\n");
  EXPECT_FALSE(ParseWorkloads(json{{"nope", 1}}).ok());
}

}  // namespace
}  // namespace tp::cli
