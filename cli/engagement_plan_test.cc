#include "cli/engagement_plan.h"

#include <gtest/gtest.h>

#include <algorithm>

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
  EXPECT_EQ(api::HandlerBodyToJson(
                {"10.200.0.130",
                 ResolvePorts(EngagementMode::kIntercept, {{8080, 8081}}, workload).handler_ports}),
            (json{{"address", "10.200.0.130"}, {"ports", {{"8080", 8081}}}}));
}

TEST(EngagementPlanTest, ContainerNameUsesTheFirstEngagedPort) {
  EXPECT_EQ(HandlerContainerName("echo", {9090}, {8080, 9090}), "intercept-echo-9090");
  EXPECT_EQ(HandlerContainerName("echo", {}, {8080, 9090}), "intercept-echo-8080");
  EXPECT_EQ(HandlerContainerName("echo", {}, {}), "intercept-echo");
}

EngageCommand Command(std::vector<std::string> docker_flags = {}) {
  EngageCommand command{.workload = "echo", .name = "echo"};
  docker_flags.push_back("busybox");
  command.docker_args = SplitDockerRunArgs(docker_flags).value();
  return command;
}

TEST(EngagementPlanTest, VolumesAreNamedPerMountAndSkipUserMounts) {
  const std::vector<std::string> mounts{"/srv/echo-data", "/var/cache"};
  auto volumes = PlanVolumes(Command(), mounts, {});
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-0", "/srv/echo-data", "/srv/echo-data"},
                                       {"tp-echo-1", "/var/cache", "/var/cache"}}));
  volumes = PlanVolumes(Command({"-v", "/host:/srv/echo-data"}), mounts, {});
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-1", "/var/cache", "/var/cache"}}));
  EngageCommand under = Command();
  under.docker_mount = "/remote/";
  under.mounts.only = "/var/cache";
  volumes = PlanVolumes(under, mounts, {});
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-1", "/var/cache", "/remote/var/cache"}}));
  EngageCommand none = Command();
  none.mounts.enabled = false;
  EXPECT_TRUE(PlanVolumes(none, mounts, {}).value().empty());
  EngageCommand unknown = Command();
  unknown.mounts.only = "/nope";
  ASSERT_FALSE(PlanVolumes(unknown, mounts, {}).ok());
  EXPECT_EQ(PlanVolumes(unknown, mounts, {}).error().message,
            "the workload echo has no mount /nope; its mounts are /srv/echo-data, /var/cache "
            "(telepresence list shows them)");
}

TEST(EngagementPlanTest, TheWorkloadsMountPoliciesCanBeNarrowedNeverWidened) {
  const std::vector<std::string> mounts{"/data", "/config", "/cache"};
  const api::MountPolicies policies{{"/config", api::MountPolicy::kRemoteReadOnly},
                                    {"/cache", api::MountPolicy::kLocal}};
  auto volumes = PlanVolumes(Command(), mounts, policies);
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(), (std::vector<RemoteVolume>{{"tp-echo-0", "/data", "/data", false},
                                                        {"tp-echo-1", "/config", "/config", true}}))
      << "RemoteReadOnly is read-only, Local is not mounted";
  EngageCommand read_only = Command();
  read_only.mounts.read_only = true;
  volumes = PlanVolumes(read_only, mounts, policies);
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value(),
            (std::vector<RemoteVolume>{{"tp-echo-0", "/data", "/data", true},
                                       {"tp-echo-1", "/config", "/config", true}}));
  EngageCommand local = Command();
  local.mounts.only = "/cache";
  ASSERT_FALSE(PlanVolumes(local, mounts, policies).ok());
  EXPECT_EQ(PlanVolumes(local, mounts, policies).error().message,
            "the workload echo says its mount /cache is Local: it is never mounted from the "
            "cluster (mount your own files there with -v after --)");
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

// The command line as the user typed it, parsed once (command_line.h).
EngageCommand Parsed(std::vector<std::string> words) {
  Result<CommandLine> line = ParseCommandLine(words);
  EXPECT_TRUE(line.ok()) << line.error().message;
  return std::get<EngageCommand>(line.value().command);
}

DaemonPlacement Daemon() {
  return {.context_name = "default",
          .network = "tp-default",
          .dns = "10.200.0.2",
          .dns_search = {"default.svc.cluster.local"},
          .bridge_address = "172.17.0.2",
          .bridge_gateway = "172.17.0.1"};
}

const std::string kToken = "0123456789abcdef0123456789abcdef";

// What the daemon answers for echo (ports 8080 and 9090, one mount), and what Docker made.
EngagementInputs Inputs(const EngageCommand& command, const std::string& image = "myimage") {
  EngagementInputs inputs{.daemon = Daemon(), .workload_ports = {8080, 9090}};
  inputs.ports = PlanEngageStart(command, inputs.workload_ports, inputs.daemon).ports;
  inputs.grant = {.id = "e-1",
                  .container = "echo",
                  .ports = inputs.ports.workload_ports,
                  .sftp_port = 40022,
                  .sftp_token = kToken,
                  .env = {{"ECHO_MESSAGE", "hello"}},
                  .mounts = {"/srv/echo-data"}};
  inputs.image = image;
  inputs.env_file_path = "/tmp/telepresence-env-1";
  return inputs;
}

EngagementPlan Plan(const std::vector<std::string>& words, const std::string& image = "myimage") {
  const EngageCommand command = Parsed(words);
  Result<EngagementPlan> plan = PlanEngagement(command, Inputs(command, image));
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return plan.ok() ? plan.value() : EngagementPlan{};
}

// docker run's fixed head: the network and the daemon's DNS.
Argv Head() {
  return {"docker",       "run",        "--network",    "tp-default",
          "--dns",        "10.200.0.2", "--dns-search", "default.svc.cluster.local",
          "--dns-option", "ndots:5"};
}

Argv Concat(Argv first, const Argv& second) {
  first.insert(first.end(), second.begin(), second.end());
  return first;
}

// Our flags between the head and the user's, for the handler `name` with echo's volume.
Argv Ours(const std::string& name, bool rm = true) {
  Argv ours;
  if (rm) ours.push_back("--rm");
  if (!name.empty()) ours.insert(ours.end(), {"--name", name});
  return Concat(ours, {"--label", "tp.daemon=default", "--label", "telepresence.engagement=e-1",
                       "--env-file", "/tmp/telepresence-env-1", "-v", "tp-echo-0:/srv/echo-data"});
}

size_t Count(const Argv& argv, std::string_view word) {
  return static_cast<size_t>(std::count(argv.begin(), argv.end(), word));
}

TEST(EngagementPlanTest, SeedReplaceRunsTheUsersImageWithEveryAutomaticFlag) {
  const EngagementPlan plan = Plan({"replace", "echo", "--docker-run", "--", "--rm", "myimage"});
  // The user's --rm stays where it was, and ours is not added.
  EXPECT_EQ(plan.run,
            Concat(Concat(Head(), Ours("intercept-echo-8080", false)), {"--rm", "myimage"}));
  EXPECT_EQ(plan.container, "intercept-echo-8080");
  EXPECT_EQ(plan.engagement_id, "e-1");
  EXPECT_EQ(plan.env_file_text, "ECHO_MESSAGE=hello\n");
  EXPECT_TRUE(plan.skipped_variables.empty());
  EXPECT_EQ(plan.user_env_file, std::nullopt);
  EXPECT_EQ(plan.handler_ports, (std::map<uint16_t, uint16_t>{{8080, 8080}, {9090, 9090}}));
  ASSERT_EQ(plan.volumes.size(), 1u);
  EXPECT_EQ(plan.volumes[0].mount_path, "/srv/echo-data");
  EXPECT_EQ(plan.volumes[0].spec.name, "tp-echo-0");
  EXPECT_EQ(plan.volumes[0].spec.driver, "telemount:latest");
  EXPECT_EQ(plan.volumes[0].spec.driver_options,
            (std::map<std::string, std::string>{{"host", "172.17.0.2"},
                                                {"port", "40022"},
                                                {"path", "/echo/srv/echo-data"},
                                                {"token", kToken}}));
  EXPECT_EQ(plan.volumes[0].spec.labels,
            (docker::Labels{{"tp.daemon", "default"}, {"telepresence.engagement", "e-1"}}));
}

TEST(EngagementPlanTest, SeedInterceptAddsRmAndNameAndKeepsTheUsersWordsInOrder) {
  const EngagementPlan plan = Plan({"intercept", "echo", "--port", "9090:8081", "--docker-run",
                                    "--", "-it", "-e", "A=1", "myimage", "sh", "-c", "env"});
  EXPECT_EQ(plan.run, Concat(Concat(Head(), Ours("intercept-echo-9090")),
                             {"-it", "-e", "A=1", "myimage", "sh", "-c", "env"}));
  EXPECT_EQ(plan.handler_ports, (std::map<uint16_t, uint16_t>{{9090, 8081}}));
}

// A daemon on the host (connect without --docker): the seeds' flags for that case.
EngagementPlan HostPlan(const std::vector<std::string>& words) {
  const EngageCommand command = Parsed(words);
  EngagementInputs inputs = Inputs(command);
  inputs.daemon = {.context_name = "default",
                   .network = "bridge",
                   .dns = "172.17.0.1",
                   .dns_search = {"default.svc.cluster.local"},
                   .bridge_address = "127.0.0.1",
                   .bridge_gateway = "127.0.0.1",
                   .on_host = true};
  Result<EngagementPlan> plan = PlanEngagement(command, inputs);
  EXPECT_TRUE(plan.ok()) << plan.error().message;
  return plan.ok() ? plan.value() : EngagementPlan{};
}

TEST(EngagementPlanTest, SeedHostDaemonPublishesTheHandlersPortsAndSearchesTel2Search) {
  const EngagementPlan plan =
      HostPlan({"intercept", "echo", "--port", "9090:8081", "--docker-run", "--", "myimage"});
  // --port LOCAL:CONTAINER: the host's port 9090 goes to the container's 8081, and the daemon
  // sends echo's port 9090 there; no --network, no --dns: the host's DNS answers tel2-search.
  EXPECT_EQ(plan.run,
            Concat(Concat({"docker", "run", "--dns-search", "tel2-search"},
                          Concat(Ours("intercept-echo-9090"), {"-p", "127.0.0.1:9090:8081"})),
                   {"myimage"}));
  EXPECT_EQ(plan.handler_ports, (std::map<uint16_t, uint16_t>{{9090, 9090}}));
  EXPECT_EQ(plan.handler_address, "127.0.0.1");
  EXPECT_EQ(plan.handler_network, "bridge");
  ASSERT_EQ(plan.volumes.size(), 1u);
  EXPECT_EQ(plan.volumes[0].spec.driver_options.at("host"), "127.0.0.1");
}

TEST(EngagementPlanTest, SeedHostDaemonReplacePublishesEveryPortOnLoopbackOnly) {
  const EngagementPlan plan = HostPlan({"replace", "echo", "--docker-run", "--", "myimage"});
  EXPECT_EQ(Count(plan.run, "-p"), 2u);
  EXPECT_EQ(Count(plan.run, "127.0.0.1:8080:8080"), 1u);
  EXPECT_EQ(Count(plan.run, "127.0.0.1:9090:9090"), 1u);
  EXPECT_EQ(Count(plan.run, "--network"), 0u);
  EXPECT_EQ(plan.handler_ports, (std::map<uint16_t, uint16_t>{{8080, 8080}, {9090, 9090}}));
  const EngagementPlan container = Plan({"replace", "echo", "--docker-run", "--", "myimage"});
  EXPECT_EQ(Count(container.run, "-p"), 0u) << "a daemon container reaches the handler itself";
  EXPECT_EQ(container.handler_address, "");
  EXPECT_EQ(container.handler_network, "tp-default");
}

TEST(EngagementPlanTest, TheEngageRequestAndNoBuildForDockerRun) {
  const EngageCommand command =
      Parsed({"wiretap", "echo", "--port", "8080", "--name", "tap", "--docker-run", "--", "img"});
  const EngageStart start = PlanEngageStart(command, {8080, 9090}, Daemon());
  EXPECT_EQ(api::EngageRequestToJson(start.engage_request), (json{{"workload", "echo"},
                                                                  {"mode", "wiretap"},
                                                                  {"ports", {8080}},
                                                                  {"name", "tap"},
                                                                  {"sftp_client", "172.17.0.1"}}));
  EXPECT_EQ(start.build, std::nullopt);
  EXPECT_EQ(start.ports, (EngagedPorts{{8080}, {{8080, 8080}}}));
}

TEST(EngagementPlanTest, SeedDockerBuildBuildsThenRunsTheBuiltImage) {
  const std::vector<std::string> words{"intercept",
                                       "echo",
                                       "--port",
                                       "8080",
                                       "--docker-build",
                                       "./images/echo",
                                       "--docker-build-opt",
                                       "file=Dockerfile.dev",
                                       "--",
                                       "IMAGE",
                                       "--verbose"};
  const EngageStart start = PlanEngageStart(Parsed(words), {8080, 9090}, Daemon());
  EXPECT_EQ(start.build, (Argv{"env", "DOCKER_BUILDKIT=0", "docker", "build", "-q", "--file",
                               "Dockerfile.dev", "./images/echo"}));
  const EngagementPlan plan = Plan(words, "sha256:built");
  EXPECT_EQ(plan.run,
            Concat(Concat(Head(), Ours("intercept-echo-8080")), {"sha256:built", "--verbose"}));
  EXPECT_EQ(Count(plan.run, "IMAGE"), 0u);
  EXPECT_EQ(Count(plan.run, "SYS_PTRACE"), 0u);
}

TEST(EngagementPlanTest, SeedDockerDebugAllowsADebugger) {
  const EngagementPlan plan =
      Plan({"intercept", "echo", "--docker-debug", "./src", "--", "IMAGE"}, "sha256:dbg");
  EXPECT_EQ(plan.run, Concat(Concat(Head(), Ours("intercept-echo-8080")),
                             {"--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined",
                              "sha256:dbg"}));
}

TEST(EngagementPlanTest, TheUsersNameWinsInEverySpelling) {
  for (const Argv& name : {Argv{"--name", "mine"}, Argv{"--name=mine"}}) {
    Argv words{"replace", "echo", "--docker-run", "--"};
    words = Concat(Concat(words, name), {"myimage"});
    const EngagementPlan plan = Plan(words);
    EXPECT_EQ(plan.container, "mine");
    EXPECT_EQ(plan.run, Concat(Concat(Concat(Head(), Ours("")), name), {"myimage"}));
  }
  // The last --name counts, as for docker.
  EXPECT_EQ(Plan({"replace", "echo", "--docker-run", "--", "--name", "a", "--name", "b", "img"})
                .container,
            "b");
}

TEST(EngagementPlanTest, TheUsersRmInEverySpellingIsNotAddedTwice) {
  for (const std::string rm : {"--rm", "--rm=true", "--rm=false"}) {
    const EngagementPlan plan = Plan({"replace", "echo", "--docker-run", "--", rm, "myimage"});
    EXPECT_EQ(Count(plan.run, "--rm"), rm == "--rm" ? 1u : 0u) << rm;
    EXPECT_EQ(Count(plan.run, rm), 1u) << rm;
  }
}

TEST(EngagementPlanTest, TheUsersEnvComesAfterOursSoItOverrides) {
  const EngagementPlan plan =
      Plan({"replace", "echo", "--env-file", "/home/u/echo.env", "--docker-run", "--", "-e",
            "ECHO_MESSAGE=mine", "--env-file", "my.env", "--env=B=2", "myimage"});
  const auto ours = std::find(plan.run.begin(), plan.run.end(), "/tmp/telepresence-env-1");
  const auto theirs = std::find(plan.run.begin(), plan.run.end(), "ECHO_MESSAGE=mine");
  const auto their_file = std::find(plan.run.begin(), plan.run.end(), "my.env");
  ASSERT_NE(theirs, plan.run.end());
  EXPECT_LT(ours, theirs);
  EXPECT_LT(ours, their_file);
  // The remote environment is unchanged in the file; --env-file FILE gets it too.
  EXPECT_EQ(plan.env_file_text, "ECHO_MESSAGE=hello\n");
  EXPECT_EQ(plan.user_env_file, "/home/u/echo.env");
}

TEST(EngagementPlanTest, VolumesTheUserMountsThemselvesAreNotAdded) {
  for (const Argv& mount :
       {Argv{"-v", "/host:/srv/echo-data"}, Argv{"--volume=data:/srv/echo-data/:ro"},
        Argv{"--mount", "type=bind,src=/h,target=/srv/echo-data"},
        Argv{"--tmpfs", "/srv/echo-data:rw"}}) {
    Argv words = Concat({"replace", "echo", "--docker-run", "--"}, mount);
    const EngagementPlan plan = Plan(Concat(words, {"myimage"}));
    EXPECT_TRUE(plan.volumes.empty()) << mount.back();
    EXPECT_EQ(Count(plan.run, "tp-echo-0:/srv/echo-data"), 0u) << mount.back();
    EXPECT_EQ(Count(plan.run, mount.back()), 1u);
  }
}

TEST(EngagementPlanTest, MountFlagsChooseTheVolumes) {
  EngagementPlan plan =
      Plan({"replace", "echo", "--docker-mount", "/remote", "--docker-run", "--", "img"});
  EXPECT_EQ(Count(plan.run, "tp-echo-0:/remote/srv/echo-data"), 1u);
  EXPECT_EQ(plan.volumes.at(0).spec.driver_options.at("path"), "/echo/srv/echo-data");
  plan = Plan({"replace", "echo", "--mount=false", "--docker-run", "--", "img"});
  EXPECT_TRUE(plan.volumes.empty());
  EXPECT_EQ(Count(plan.run, "-v"), 0u);
  plan = Plan({"replace", "echo", "--mount", "/srv/echo-data/", "--docker-run", "--", "img"});
  EXPECT_EQ(plan.volumes.size(), 1u);
  const EngageCommand unknown =
      Parsed({"replace", "echo", "--mount", "/nope", "--docker-run", "--", "img"});
  Result<EngagementPlan> refused = PlanEngagement(unknown, Inputs(unknown));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message,
            "the workload echo has no mount /nope; its mounts are /srv/echo-data (telepresence "
            "list shows them)");
}

TEST(EngagementPlanTest, ReadOnlyMountsAreReadOnlyInTelemountAndInTheContainer) {
  for (const std::string flag : {"/srv/echo-data:ro", "true:ro", "/srv/echo-data/:ro"}) {
    const EngagementPlan plan =
        Plan({"replace", "echo", "--mount", flag, "--docker-run", "--", "img"});
    ASSERT_EQ(plan.volumes.size(), 1u) << flag;
    EXPECT_EQ(plan.volumes.at(0).spec.driver_options.at("ro"), "true") << flag;
    EXPECT_EQ(Count(plan.run, "tp-echo-0:/srv/echo-data:ro"), 1u) << flag;
  }
  const EngagementPlan writable =
      Plan({"replace", "echo", "--mount", "/srv/echo-data", "--docker-run", "--", "img"});
  EXPECT_EQ(writable.volumes.at(0).spec.driver_options.count("ro"), 0u);
  EXPECT_EQ(Count(writable.run, "tp-echo-0:/srv/echo-data"), 1u);
}

TEST(EngagementPlanTest, IngestEngagesNoPortAndIsNamedAfterTheWorkloadsFirstPort) {
  const EngageCommand command = Parsed({"ingest", "echo", "--docker-run", "--", "-it", "busybox"});
  EXPECT_TRUE(PlanEngageStart(command, {8080, 9090}, Daemon()).engage_request.ports.empty());
  const EngagementPlan plan = Plan({"ingest", "echo", "--docker-run", "--", "-it", "busybox"});
  EXPECT_EQ(plan.container, "intercept-echo-8080");
  EXPECT_TRUE(plan.handler_ports.empty());
}

TEST(EngagementPlanTest, AnEngagementNameNamesTheVolumesAndTheContainer) {
  const EngagementPlan plan =
      Plan({"intercept", "echo", "--name", "mine", "--docker-run", "--", "img"});
  EXPECT_EQ(plan.container, "intercept-mine-8080");
  EXPECT_EQ(plan.volumes.at(0).spec.name, "tp-mine-0");
}

TEST(EngagementPlanTest, VariablesTheEnvFileCannotHoldAreLeftOutAndNamed) {
  const EngageCommand command = Parsed({"replace", "echo", "--docker-run", "--", "img"});
  EngagementInputs inputs = Inputs(command);
  inputs.grant.env = {{"A", "1"}, {"BAD", "two\nlines"}};
  inputs.grant.sftp_token = "";
  Result<EngagementPlan> plan = PlanEngagement(command, inputs);
  ASSERT_TRUE(plan.ok());
  EXPECT_EQ(plan.value().env_file_text, "A=1\n");
  EXPECT_EQ(plan.value().skipped_variables, std::vector<std::string>{"BAD"});
  EXPECT_FALSE(plan.value().volumes.at(0).spec.driver_options.contains("token"));
}

TEST(EngagementPlanTest, SeedDockerRunCommandPutsTheUsersWordsAfterTheNetwork) {
  Result<CommandLine> line =
      ParseCommandLine(std::vector<std::string>{"docker-run", "--rm", "myimage", "./probe"});
  ASSERT_TRUE(line.ok());
  const auto& run = std::get<DockerRunCommand>(line.value().command);
  EXPECT_EQ(DockerRunOnNetworkCommand("tp-default", "10.200.0.2", {"default.svc.cluster.local"},
                                      run.docker_args),
            Concat(Head(), {"--rm", "myimage", "./probe"}));
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
