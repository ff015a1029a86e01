#include "cluster/agent/agent_options.h"

#include <gtest/gtest.h>

namespace tp::agent {
namespace {

const std::vector<std::string> kRequired = {"--manager",     "tp-traffic-manager:8081",
                                            "--secret-file", "/run/secret",
                                            "--workload",    "echo",
                                            "--container",   "echo",
                                            "--port",        "8080"};

std::vector<std::string> With(std::vector<std::string> extra) {
  std::vector<std::string> arguments = kRequired;
  arguments.insert(arguments.end(), extra.begin(), extra.end());
  return arguments;
}

TEST(AgentOptionsTest, ReadsEveryFlag) {
  const auto parsed = ParseAgentOptions(
      With({"--port", "9090", "--port=8080", "--app-address", "127.0.0.2", "--app-env-file",
            "/e.env", "--mount", "/srv/echo-data", "--mount", "/cache", "--exports", "/x",
            "--sftp-port", "2222", "--sftp-server", "/bin/sftp", "--chroot-library", "/lib/c.so"}));
  ASSERT_TRUE(parsed.options) << parsed.error;
  const AgentOptions& options = *parsed.options;
  EXPECT_EQ(options.manager_host, "tp-traffic-manager");
  EXPECT_EQ(options.manager_port, 8081);
  EXPECT_EQ(options.secret_file, "/run/secret");
  EXPECT_EQ(options.workload, "echo");
  EXPECT_EQ(options.container, "echo");
  EXPECT_EQ(options.ports, (std::vector<uint16_t>{8080, 9090}));  // duplicates dropped
  EXPECT_EQ(options.app_address, "127.0.0.2");
  EXPECT_EQ(options.app_env_file, "/e.env");
  EXPECT_EQ(options.mounts, (std::vector<std::string>{"/srv/echo-data", "/cache"}));
  EXPECT_EQ(options.exports, "/x");
  EXPECT_EQ(options.sftp_port, 2222);
  EXPECT_EQ(options.sftp_server, "/bin/sftp");
  EXPECT_EQ(options.chroot_library, "/lib/c.so");
}

TEST(AgentOptionsTest, MountsCarryTheWorkloadsPolicies) {
  const auto parsed = ParseAgentOptions(
      With({"--mount", "/data", "--mount", "/config:RemoteReadOnly", "--mount", "/cache:Local",
            "--mount", "/secrets:Ignore", "--mount", "/plain:Remote"}));
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->mounts,
            (std::vector<std::string>{"/data", "/config", "/cache", "/plain"}))
      << "an ignored mount is not reported";
  EXPECT_EQ(parsed.options->mount_policies,
            (api::MountPolicies{{"/config", api::MountPolicy::kRemoteReadOnly},
                                {"/cache", api::MountPolicy::kLocal}}));
  EXPECT_EQ(ParseAgentOptions(With({"--mount", "/data:ReadOnly"})).error,
            "--mount wants PATH or PATH:POLICY with POLICY one of Remote, RemoteReadOnly, Local, "
            "Ignore, got /data:ReadOnly");
  EXPECT_EQ(ParseAgentOptions(With({"--mount", "data:Local"})).error,
            "--mount wants an absolute path, got data:Local");
}

TEST(AgentOptionsTest, HasTheDocumentedDefaults) {
  const auto parsed = ParseAgentOptions(kRequired);
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->app_address, "127.0.0.1");
  EXPECT_EQ(parsed.options->exports, "/tel_app_exports");
  EXPECT_EQ(parsed.options->sftp_port, 8022);
  EXPECT_EQ(parsed.options->sftp_server, "/usr/lib/openssh/sftp-server");
  EXPECT_TRUE(parsed.options->app_env_file.empty());
}

TEST(AgentOptionsTest, RejectsWhatIsWrongWithASentence) {
  EXPECT_EQ(ParseAgentOptions({"--workload", "echo"}).error, "--manager is required");
  EXPECT_EQ(ParseAgentOptions(With({"--port", "0"})).error,
            "--port wants an integer from 1 to 65535, got 0");
  EXPECT_EQ(ParseAgentOptions(With({"--mount", "srv"})).error,
            "--mount wants an absolute path, got srv");
  EXPECT_EQ(ParseAgentOptions(With({"--bogus", "1"})).error, "unknown argument --bogus");
  EXPECT_EQ(ParseAgentOptions(With({"--port"})).error, "--port needs a value");
  EXPECT_FALSE(ParseAgentOptions({"--manager", "nohost"}).options);
  std::vector<std::string> no_port = kRequired;
  no_port.resize(no_port.size() - 2);
  EXPECT_EQ(ParseAgentOptions(no_port).error, "at least one --port is required");
  EXPECT_TRUE(ParseAgentOptions({"--help"}).options->help);
}

TEST(EnvTextTest, ReadsKeyValueLinesLikeDockerEnvFile) {
  std::string error;
  const auto env = ParseEnvText(
      "ECHO_MESSAGE=hello-from-echo\n\n# a comment\nPATH=/bin:/usr/bin\nEMPTY=\nEQ=a=b\r\n"
      "QUOTED=\"kept\"\n",
      error);
  ASSERT_TRUE(env) << error;
  EXPECT_EQ(*env, (std::map<std::string, std::string>{{"ECHO_MESSAGE", "hello-from-echo"},
                                                      {"PATH", "/bin:/usr/bin"},
                                                      {"EMPTY", ""},
                                                      {"EQ", "a=b"},
                                                      {"QUOTED", "\"kept\""}}));
}

TEST(EnvTextTest, NamesTheBadLine) {
  std::string error;
  EXPECT_FALSE(ParseEnvText("A=1\nnot a pair\n", error));
  EXPECT_EQ(error, "line 2 is not KEY=VALUE");
  EXPECT_FALSE(ParseEnvText("=value\n", error));
  EXPECT_EQ(error, "line 1 is not KEY=VALUE");
}

}  // namespace
}  // namespace tp::agent
