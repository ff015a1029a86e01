#include "cli/compose_spec.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

constexpr std::string_view kTwoServices = R"yaml(
services:
  local-echo:
    image: tp-echo:latest
    x-tele:
      type: replace
      name: echo
  caller:
    image: tp-busybox:latest
    command: ["sleep", "3600"]
)yaml";

ComposeProject Parsed(std::string_view text) {
  Result<ComposeProject> project = ParseComposeFile(text, "compose.yml");
  EXPECT_TRUE(project.ok()) << project.error().message;
  return project.ok() ? project.value() : ComposeProject{};
}

std::string ErrorOf(std::string_view text) {
  Result<ComposeProject> project = ParseComposeFile(text, "compose.yml");
  EXPECT_FALSE(project.ok());
  return project.ok() ? "" : project.error().message;
}

TEST(ComposeSpecTest, AReplacingServiceAndAPlainOne) {
  const ComposeProject project = Parsed(kTwoServices);
  ASSERT_EQ(project.services.size(), 2u);
  EXPECT_EQ(project.services[0],
            (ComposeService{.name = "local-echo",
                            .engagement = ServiceEngagement{.mode = EngagementMode::kReplace,
                                                            .workload = "echo"}}));
  EXPECT_EQ(project.services[1], (ComposeService{.name = "caller"}));
  EXPECT_EQ(TeleTypeName(project.services[0]), "replace");
  EXPECT_EQ(TeleTypeName(project.services[1]), "connect");
  EXPECT_FALSE(project.context_name);
}

TEST(ComposeSpecTest, EveryKey) {
  const ComposeProject project = Parsed(R"yaml(
x-tele: {context: dev}
services:
  echo:
    networks: [backend]
    x-tele:
      type: intercept
      ports: [8080, "9090:9191"]
      mounts:
        - {path: /srv/echo-data/, policy: remoteReadOnly}
        - {path: /cache, policy: local}
        - {path: /other}
  web:
    network_mode: host
  tool:
    x-tele: {type: connect}
)yaml");
  EXPECT_EQ(project.context_name, "dev");
  ASSERT_EQ(project.services.size(), 3u);
  const ComposeService& echo = project.services[0];
  EXPECT_TRUE(echo.has_networks);
  ASSERT_TRUE(echo.engagement);
  // The workload is the service's name unless `name` says otherwise.
  EXPECT_EQ(echo.engagement->workload, "echo");
  EXPECT_EQ(echo.engagement->mode, EngagementMode::kIntercept);
  EXPECT_EQ(echo.engagement->ports, (std::vector<PortMapping>{{8080, 8080}, {9090, 9191}}));
  EXPECT_EQ(echo.engagement->mounts,
            (std::vector<MountRule>{{"/srv/echo-data", MountPolicy::kRemoteReadOnly},
                                    {"/cache", MountPolicy::kLocal},
                                    {"/other", MountPolicy::kRemote}}));
  EXPECT_TRUE(project.services[1].has_network_mode);
  EXPECT_FALSE(project.services[2].engagement);
}

TEST(ComposeSpecTest, ClearSentencesForWhatIsWrong) {
  EXPECT_EQ(ErrorOf("services:\n  a:\n    x-tele: {type: replace, workload: echo}\n"),
            "compose.yml: service a: x-tele: unknown key workload (the keys are type, name, "
            "ports, mounts)");
  EXPECT_EQ(ErrorOf("services:\n  a:\n    x-tele: {type: proxy}\n"),
            "compose.yml: service a: x-tele: unsupported type 'proxy' (the types are connect, "
            "replace, intercept, ingest, wiretap)");
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {name: echo}\n").find("needs a type"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {type: replace, name: Echo_1}\n")
                .find("the workload name 'Echo_1' is not one"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {type: intercept, ports: [\"80:0\"]}\n")
                .find("invalid port '80:0'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {type: ingest, ports: [80]}\n")
                .find("ingest engages no ports"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {type: replace, mounts: [{path: /a, "
                    "policy: sometimes}]}\n")
                .find("unknown mount policy 'sometimes'"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    x-tele: {type: replace, mounts: [{path: rel}]}\n")
                .find("absolute"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a:\n    network_mode: host\n    x-tele: {type: replace}\n")
                .find("network_mode"),
            std::string::npos);
  EXPECT_EQ(ErrorOf("x-tele: {connections: []}\nservices: {}\n"),
            "compose.yml: x-tele: unknown key connections (the keys are context)");
  EXPECT_EQ(ErrorOf("services:\n  a/b: {image: x}\n"),
            "compose.yml: invalid service name 'a/b': use letters, digits, '.', '_' and '-'");
  EXPECT_NE(ErrorOf("services: [a, b]\n").find("services must be a mapping"), std::string::npos);
  EXPECT_NE(ErrorOf("services: {a: {x-tele: {type: [replace]}}}\n").find("needs a type"),
            std::string::npos);
  EXPECT_NE(ErrorOf("services:\n  a: [\n").find("is not a YAML file"), std::string::npos);
}

TEST(ComposeSpecTest, OneEngagementPerWorkload) {
  EXPECT_EQ(ErrorOf("services:\n  a: {x-tele: {type: replace, name: echo}}\n"
                    "  b: {x-tele: {type: ingest, name: echo}}\n"),
            "compose.yml: the services a and b both engage the workload echo; a workload has "
            "one engagement at a time");
}

TEST(ComposeSpecTest, LaterFilesOverrideEarlierOnes) {
  const ComposeProject base = Parsed(kTwoServices);
  const ComposeProject override = Parsed(R"yaml(
x-tele: {context: other}
services:
  caller:
    networks: [backend]
    x-tele: {type: ingest, name: greeter}
  extra:
    image: tp-busybox:latest
)yaml");
  Result<ComposeProject> merged = MergeComposeFiles({base, override});
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_EQ(merged.value().context_name, "other");
  ASSERT_EQ(merged.value().services.size(), 3u);
  EXPECT_EQ(merged.value().services[0].name, "local-echo");
  EXPECT_EQ(merged.value().services[1].name, "caller");
  EXPECT_TRUE(merged.value().services[1].has_networks);
  ASSERT_TRUE(merged.value().services[1].engagement);
  EXPECT_EQ(merged.value().services[1].engagement->workload, "greeter");
  EXPECT_EQ(merged.value().services[2].name, "extra");

  const ComposeProject twice = Parsed("services:\n  b: {x-tele: {type: replace, name: echo}}\n");
  Result<ComposeProject> clash = MergeComposeFiles({base, twice});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.error().message.find("both engage the workload echo"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
