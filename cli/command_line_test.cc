#include "cli/command_line.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tp::cli {
namespace {

using Args = std::vector<std::string>;

Result<CommandLine> Parse(const Args& args) { return ParseCommandLine(args); }

template <typename T>
T ParseAs(const Args& args) {
  Result<CommandLine> parsed = Parse(args);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  if (!parsed.ok()) return T{};
  EXPECT_TRUE(std::holds_alternative<T>(parsed.value().command));
  if (!std::holds_alternative<T>(parsed.value().command)) return T{};
  return std::get<T>(parsed.value().command);
}

// The error message of a failed parse; fails the test when the parse succeeded.
std::string ParseError(const Args& args) {
  Result<CommandLine> parsed = Parse(args);
  EXPECT_FALSE(parsed.ok());
  return parsed.ok() ? "" : parsed.error().message;
}

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

TEST(CommandLineTest, ConnectWithDockerAndDefaults) {
  auto connect = ParseAs<ConnectCommand>({"connect", "--docker"});
  EXPECT_FALSE(connect.context_name.has_value());
  EXPECT_FALSE(connect.manager_override.has_value());
}

TEST(CommandLineTest, DockerIsGlobalBeforeTheCommand) {
  Result<CommandLine> parsed = Parse({"--docker", "connect"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.value().global.docker);
  EXPECT_TRUE(std::holds_alternative<ConnectCommand>(parsed.value().command));
}

TEST(CommandLineTest, DockerAmongCommandFlagsSetsTheGlobalFlag) {
  Result<CommandLine> parsed = Parse({"status", "--docker"});
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(parsed.value().global.docker);
}

TEST(CommandLineTest, ConnectContextAndManagerInBothSpellings) {
  auto connect =
      ParseAs<ConnectCommand>({"connect", "--docker", "--context", "staging", "--manager=h:9"});
  EXPECT_EQ(connect.context_name, "staging");
  EXPECT_EQ(connect.manager_override, "h:9");
  connect =
      ParseAs<ConnectCommand>({"connect", "--context=prod", "--manager", "[::1]:80", "--docker"});
  EXPECT_EQ(connect.context_name, "prod");
  EXPECT_EQ(connect.manager_override, "[::1]:80");
}

TEST(CommandLineTest, ConnectTimeout) {
  EXPECT_EQ(ParseAs<ConnectCommand>({"connect", "--docker"}).timeout, kDefaultConnectTimeout);
  EXPECT_EQ(ParseAs<ConnectCommand>({"connect", "--docker", "--timeout", "5"}).timeout,
            std::chrono::seconds(5));
  EXPECT_EQ(ParseAs<ConnectCommand>({"connect", "--docker", "--timeout=90s"}).timeout,
            std::chrono::seconds(90));
  for (const char* bad : {"0", "-1", "1.5", "x", "3601", "s", ""}) {
    std::string error = ParseError({"connect", "--docker", "--timeout", bad});
    EXPECT_CONTAINS(error, "invalid --timeout");
    EXPECT_CONTAINS(error, "telepresence connect --help");
  }
}

TEST(CommandLineTest, ConnectWithoutDockerRunsTheDaemonOnTheHost) {
  EXPECT_TRUE(ParseAs<ConnectCommand>({"connect"}).on_host);
  EXPECT_FALSE(ParseAs<ConnectCommand>({"connect", "--docker"}).on_host);
  EXPECT_FALSE(ParseAs<ConnectCommand>({"--docker", "connect"}).on_host);
  std::string error = ParseError({"connect", "--docker-subnet", "10.200.0.0/24"});
  EXPECT_CONTAINS(error, "only connect --docker makes");
}

TEST(CommandLineTest, UnknownFlagNamesFlagCommandAndHelp) {
  EXPECT_EQ(ParseError({"connect", "--docker", "--x"}),
            "unknown flag --x for connect; see telepresence connect --help");
  EXPECT_EQ(ParseError({"quit", "--x=1"}),
            "unknown flag --x for quit; see telepresence quit --help");
}

TEST(CommandLineTest, FlagWithoutValue) {
  std::string error = ParseError({"connect", "--docker", "--context"});
  EXPECT_CONTAINS(error, "--context needs a value");
  EXPECT_CONTAINS(error, "telepresence connect --help");
}

TEST(CommandLineTest, FlagGivenTwice) {
  std::string error = ParseError({"connect", "--docker", "--context", "a", "--context", "b"});
  EXPECT_CONTAINS(error, "--context given twice");
}

TEST(CommandLineTest, BooleanFlagWithValue) {
  EXPECT_CONTAINS(ParseError({"connect", "--docker=yes"}), "--docker takes no value");
}

TEST(CommandLineTest, InvalidContextName) {
  std::string error = ParseError({"connect", "--docker", "--context", "../etc"});
  EXPECT_CONTAINS(error, "invalid context name '../etc'");
  EXPECT_CONTAINS(error, "lowercase letters, digits and '-'");
}

TEST(CommandLineTest, InvalidManager) {
  std::string error = ParseError({"connect", "--docker", "--manager", "nohost"});
  EXPECT_CONTAINS(error, "invalid --manager 'nohost'");
  EXPECT_CONTAINS(error, "HOST:PORT");
}

TEST(CommandLineTest, ConnectPluginRegistryAndUpgrade) {
  auto connect = ParseAs<ConnectCommand>(
      {"connect", "--docker", "--plugin-registry", "127.0.0.1:5000/tp", "--upgrade-plugins"});
  EXPECT_EQ(connect.plugin_registry, "127.0.0.1:5000/tp");
  EXPECT_TRUE(connect.upgrade_plugins);
  EXPECT_FALSE(ParseAs<ConnectCommand>({"connect", "--docker"}).upgrade_plugins);
  std::string error =
      ParseError({"connect", "--docker", "--plugin-registry", "http://r:5000; rm -rf /"});
  EXPECT_CONTAINS(error, "invalid --plugin-registry");
  EXPECT_CONTAINS(error, "HOST[:PORT][/PATH]");
}

TEST(CommandLineTest, PluginsStatusAndInstall) {
  auto status = ParseAs<PluginsCommand>({"plugins", "status", "-o", "json"});
  EXPECT_EQ(status.action, PluginsCommand::Action::kStatus);
  EXPECT_EQ(status.output, OutputFormat::kJson);
  auto install = ParseAs<PluginsCommand>(
      {"plugins", "install", "--plugin-registry", "r.example/tp", "--upgrade"});
  EXPECT_EQ(install.action, PluginsCommand::Action::kInstall);
  EXPECT_EQ(install.plugin_registry, "r.example/tp");
  EXPECT_TRUE(install.upgrade);
  EXPECT_EQ(ParseAs<PluginsCommand>({"plugins", "install", "--from", "r.tar.gz"}).from_file,
            "r.tar.gz");
  EXPECT_CONTAINS(ParseError({"plugins"}), "plugins needs one action: status or install");
  EXPECT_CONTAINS(ParseError({"plugins", "remove"}), "status or install");
  EXPECT_CONTAINS(ParseError({"plugins", "status", "--upgrade"}), "are for plugins install");
  EXPECT_CONTAINS(ParseError({"plugins", "install", "--from", "f", "--plugin-registry", "r"}),
                  "not both");
  ParseAs<VersionCommand>({"version"});
  EXPECT_CONTAINS(ParseError({"version", "now"}), "version takes no arguments");
}

TEST(CommandLineTest, PositionalArgumentsRejected) {
  std::string error = ParseError({"quit", "now"});
  EXPECT_CONTAINS(error, "quit takes no arguments, got 'now'");
  EXPECT_CONTAINS(error, "telepresence quit --help");
}

TEST(CommandLineTest, StatusOutputJson) {
  EXPECT_EQ(ParseAs<StatusCommand>({"status"}).output, OutputFormat::kText);
  EXPECT_EQ(ParseAs<StatusCommand>({"status", "--output", "json"}).output, OutputFormat::kJson);
  EXPECT_EQ(ParseAs<StatusCommand>({"status", "-o", "json"}).output, OutputFormat::kJson);
  EXPECT_EQ(ParseAs<StatusCommand>({"status", "--output=json"}).output, OutputFormat::kJson);
}

TEST(CommandLineTest, StatusOtherOutputFormatRejected) {
  std::string error = ParseError({"status", "--output", "yaml"});
  EXPECT_CONTAINS(error, "unsupported --output format 'yaml'");
  EXPECT_CONTAINS(error, "only json");
}

TEST(CommandLineTest, ListOutputJson) {
  EXPECT_EQ(ParseAs<ListCommand>({"list"}).output, OutputFormat::kText);
  ListCommand list = ParseAs<ListCommand>({"list", "-o", "json", "--context", "dev"});
  EXPECT_EQ(list.output, OutputFormat::kJson);
  EXPECT_EQ(list.context_name, "dev");
  EXPECT_CONTAINS(ParseError({"list", "--output", "table"}),
                  "unsupported --output format 'table' for list: only json is supported");
}

TEST(CommandLineTest, UiPortAndBrowser) {
  UiCommand defaults = ParseAs<UiCommand>({"ui"});
  EXPECT_EQ(defaults.port, kDefaultUiPort);
  EXPECT_TRUE(defaults.open_browser);
  UiCommand chosen = ParseAs<UiCommand>({"ui", "--port", "0", "--no-open", "--context", "dev"});
  EXPECT_EQ(chosen.port, 0);
  EXPECT_FALSE(chosen.open_browser);
  EXPECT_EQ(chosen.context_name, "dev");
  for (const char* bad : {"65536", "-1", "http", "80x"}) {
    EXPECT_CONTAINS(ParseError({"ui", "--port", bad}), "use a port number 1-65535, or 0");
  }
  EXPECT_CONTAINS(ParseError({"ui", "extra"}), "ui");
}

TEST(CommandLineTest, QuitWithContext) {
  EXPECT_EQ(ParseAs<QuitCommand>({"quit", "--context", "dev"}).context_name, "dev");
}

TEST(CommandLineTest, CurlPassesEverythingFromTheFirstForeignWord) {
  auto curl = ParseAs<CurlCommand>(
      {"curl", "--context", "dev", "-sS", "--max-time", "3", "http://echo.default:8080", "-h"});
  EXPECT_EQ(curl.context_name, "dev");
  EXPECT_EQ(curl.curl_args, (Args{"-sS", "--max-time", "3", "http://echo.default:8080", "-h"}));
}

TEST(CommandLineTest, CurlAfterSeparatorGetsItsOwnHelp) {
  EXPECT_EQ(ParseAs<CurlCommand>({"curl", "--", "--help"}).curl_args, (Args{"--help"}));
}

TEST(CommandLineTest, CurlWithoutUrl) {
  std::string error = ParseError({"curl", "--context", "dev"});
  EXPECT_CONTAINS(error, "curl needs at least a URL");
  EXPECT_CONTAINS(error, "telepresence curl --help");
}

TEST(CommandLineTest, HelpOnEveryCommand) {
  for (const std::string command : {"connect", "status", "quit", "curl"}) {
    EXPECT_EQ(ParseAs<HelpRequest>({command, "--help"}).command, command);
    EXPECT_EQ(ParseAs<HelpRequest>({command, "-h"}).command, command);
    EXPECT_EQ(ParseAs<HelpRequest>({"help", command}).command, command);
    EXPECT_CONTAINS(HelpText(command), "Usage: telepresence " + command);
  }
}

TEST(CommandLineTest, HelpWinsOverOtherErrors) {
  EXPECT_EQ(ParseAs<HelpRequest>({"connect", "--bogus", "--help"}).command, "connect");
  EXPECT_EQ(ParseAs<HelpRequest>({"connect", "--help"}).command, "connect");  // no --docker
}

TEST(CommandLineTest, OverviewHelp) {
  EXPECT_EQ(ParseAs<HelpRequest>({"--help"}).command, "");
  EXPECT_EQ(ParseAs<HelpRequest>({"-h"}).command, "");
  EXPECT_EQ(ParseAs<HelpRequest>({"help"}).command, "");
  std::string overview = HelpText("");
  for (const char* command : {"connect", "status", "quit", "curl"}) {
    EXPECT_CONTAINS(overview, command);
  }
}

TEST(CommandLineTest, NoCommand) {
  std::string error = ParseError({});
  EXPECT_CONTAINS(error, "no command given");
  EXPECT_CONTAINS(error, "telepresence --help");
  EXPECT_CONTAINS(ParseError({"--docker"}), "no command given");
}

TEST(CommandLineTest, UnknownCommandListsTheCommands) {
  std::string error = ParseError({"conect"});
  EXPECT_CONTAINS(error, "unknown command 'conect'");
  EXPECT_CONTAINS(error, "connect, status, quit, curl");
  EXPECT_CONTAINS(ParseError({"help", "nope"}), "unknown command 'nope'");
}

TEST(CommandLineTest, EngagementCommandsParseTheirFlagsAndTheDockerRunWords) {
  auto engage = ParseAs<EngageCommand>({"intercept",
                                        "echo",
                                        "--port",
                                        "8081:8080",
                                        "--port=9090",
                                        "--env-file",
                                        "/tmp/e.env",
                                        "--mount",
                                        "/srv/echo-data",
                                        "--docker-mount",
                                        "/remote",
                                        "--context",
                                        "dev",
                                        "--docker-run",
                                        "--",
                                        "--rm",
                                        "-e",
                                        "A=1",
                                        "-it",
                                        "busybox",
                                        "sh",
                                        "-c",
                                        "env"});
  EXPECT_EQ(engage.mode, EngagementMode::kIntercept);
  EXPECT_EQ(engage.workload, "echo");
  EXPECT_EQ(engage.name, "echo");
  EXPECT_EQ(engage.context_name, "dev");
  // LOCAL:CONTAINER as given; a lone PORT is PORT:PORT.
  EXPECT_EQ(engage.ports, (std::vector<PortMapping>{{8081, 8080}, {9090, 9090}}));
  EXPECT_EQ(engage.env_file, "/tmp/e.env");
  EXPECT_EQ(engage.mounts.only, "/srv/echo-data");
  EXPECT_EQ(engage.docker_mount, "/remote");
  EXPECT_EQ(engage.image_source, HandlerImage::kDockerRun);
  EXPECT_EQ(engage.docker_args.flags, (Args{"--rm", "-e", "A=1", "-it"}));
  EXPECT_EQ(engage.docker_args.image, "busybox");
  EXPECT_EQ(engage.docker_args.image_args, (Args{"sh", "-c", "env"}));
}

TEST(CommandLineTest, EngagementBuildTakesOptionsAndTheLiteralImage) {
  auto engage = ParseAs<EngageCommand>(
      {"replace", "echo", "--name", "mine", "--docker-build", "./app", "--docker-build-opt",
       "file=Dockerfile.dev", "--docker-build-opt", "build-arg=V=2", "--", "IMAGE", "serve"});
  EXPECT_EQ(engage.name, "mine");
  EXPECT_EQ(engage.image_source, HandlerImage::kDockerBuild);
  EXPECT_EQ(engage.build_dir, "./app");
  EXPECT_EQ(engage.build_options, (std::vector<std::pair<std::string, std::string>>{
                                      {"file", "Dockerfile.dev"}, {"build-arg", "V=2"}}));
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-build", ".", "--", "busybox"}),
                  "write the literal IMAGE");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-debug", ".", "--", "busybox"}),
                  "with --docker-debug");
}

TEST(CommandLineTest, EngagementConflictsSayWhatToDo) {
  EXPECT_CONTAINS(
      ParseError({"replace", "echo", "--docker-run", "--docker-build", ".", "--", "IMAGE"}),
      "--docker-build implies --docker-run (it runs the image it builds); drop --docker-run");
  EXPECT_CONTAINS(
      ParseError({"replace", "echo", "--docker-build", ".", "--docker-debug", ".", "--", "IMAGE"}),
      "give only one of them");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--mount=false", "--docker-mount", "/r",
                              "--docker-run", "--", "busybox"}),
                  "drop one of them");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--", "busybox"}),
                  "give --docker-run (run an image), --docker-build DIR or --docker-debug DIR");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-run"}),
                  "needs the docker run words after a stand-alone --");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-run", "--", "--rm", "-e", "X"}),
                  "no image among the docker run words");
  EXPECT_CONTAINS(ParseError({"replace", "Echo_1", "--docker-run", "--", "busybox"}),
                  "invalid workload name 'Echo_1'");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--name", "-x", "--docker-run", "--", "b"}),
                  "invalid --name '-x'");
  EXPECT_CONTAINS(ParseError({"intercept", "echo", "--port", "http", "--docker-run", "--", "b"}),
                  "invalid --port 'http'");
  EXPECT_CONTAINS(ParseError({"intercept", "echo", "--port", "80:0", "--docker-run", "--", "b"}),
                  "invalid --port '80:0'");
  for (const std::string port : {"0:1", "1:", ":1", "a:b", "1:2:3", "70000", "8080:70000"}) {
    EXPECT_CONTAINS(
        ParseError({"intercept", "echo", "--port", port, "--docker-run", "--", "b"}),
        "invalid --port '" + port +
            "': use PORT or LOCAL:CONTAINER with port numbers from 1 to 65535, e.g. --port 8080 "
            "or --port 8080:8081");
  }
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-run", "--", "-d", "busybox"}),
                  "drop -d/--detach");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "--docker-run", "--", "--network=x", "b"}),
                  "drop --network");
  EXPECT_CONTAINS(ParseError({"ingest", "echo", "--port", "80", "--docker-run", "--", "b"}),
                  "takes no --port");
  EXPECT_CONTAINS(ParseError({"replace", "echo", "extra", "--docker-run", "--", "b"}),
                  "takes one WORKLOAD, got 'extra' too");
  for (const std::string bad : {"/srv/echo-data:rw", "/a:b", "false:ro", ":ro", "relative:ro"}) {
    EXPECT_CONTAINS(ParseError({"replace", "echo", "--mount", bad, "--docker-run", "--", "img"}),
                    "invalid --mount '" + bad + "'");
  }
}

TEST(CommandLineTest, ListAndLeave) {
  ParseAs<ListCommand>({"list"});
  EXPECT_EQ(ParseAs<LeaveCommand>({"leave", "echo"}).name, "echo");
  EXPECT_CONTAINS(ParseError({"leave"}), "leave needs the NAME");
  EXPECT_CONTAINS(ParseError({"leave", "A"}), "invalid engagement name 'A'");
  auto help = ParseAs<HelpRequest>({"wiretap", "--help"});
  EXPECT_EQ(help.command, "wiretap");
  EXPECT_CONTAINS(HelpText("wiretap"), "Usage: telepresence wiretap WORKLOAD");
  EXPECT_CONTAINS(HelpText(""), "intercept");
}

TEST(CommandLineTest, DockerRunPassesEverythingFromTheFirstDockerWord) {
  auto run = ParseAs<DockerRunCommand>(
      {"docker-run", "--context", "dev", "--rm", "-it", "--context", "x", "busybox", "sh"});
  EXPECT_EQ(run.context_name, "dev");
  EXPECT_EQ(run.docker_args, (Args{"--rm", "-it", "--context", "x", "busybox", "sh"}));
  run = ParseAs<DockerRunCommand>({"docker-run", "--", "--context", "busybox"});
  EXPECT_FALSE(run.context_name.has_value());
  EXPECT_EQ(run.docker_args, (Args{"--context", "busybox"}));
  run = ParseAs<DockerRunCommand>({"docker-run", "busybox", "--help"});
  EXPECT_EQ(run.docker_args, (Args{"busybox", "--help"}));
  run = ParseAs<DockerRunCommand>({"docker-run", "-p", "8080:80", "img; rm -rf /"});
  EXPECT_EQ(run.docker_args, (Args{"-p", "8080:80", "img; rm -rf /"}));
}

TEST(CommandLineTest, DockerRunHelpAndErrors) {
  EXPECT_EQ(ParseAs<HelpRequest>({"docker-run", "--help"}).command, "docker-run");
  EXPECT_EQ(ParseAs<HelpRequest>({"help", "docker-run"}).command, "docker-run");
  EXPECT_CONTAINS(ParseError({"docker-run"}), "docker-run needs at least an image");
  EXPECT_CONTAINS(ParseError({"docker-run", "--context", "dev"}), "needs at least an image");
  EXPECT_CONTAINS(ParseError({"docker-run", "--context", "Bad!", "img"}), "invalid context name");
  EXPECT_CONTAINS(HelpText("docker-run"), "--dns-option ndots:5");
  EXPECT_CONTAINS(HelpText(""), "docker-run");
}

TEST(CommandLineTest, ConnectDockerSubnet) {
  auto connect =
      ParseAs<ConnectCommand>({"connect", "--docker", "--docker-subnet", "10.50.0.0/16"});
  ASSERT_TRUE(connect.docker_subnet.has_value());
  EXPECT_EQ(connect.docker_subnet->ToString(), "10.50.0.0/16");
  EXPECT_FALSE(ParseAs<ConnectCommand>({"connect", "--docker"}).docker_subnet.has_value());
  EXPECT_CONTAINS(ParseError({"connect", "--docker", "--docker-subnet", "10.50.0.1/24"}),
                  "invalid --docker-subnet '10.50.0.1/24'");
  EXPECT_CONTAINS(ParseError({"connect", "--docker", "--docker-subnet=10.0.0.0/8"}),
                  "prefix length must be from 16 to 29");
  EXPECT_CONTAINS(ParseError({"connect", "--docker", "--docker-subnet=10.0.0.0/30"}),
                  "prefix length must be from 16 to 29");
  EXPECT_CONTAINS(ParseError({"connect", "--docker", "--docker-subnet", "fd00::/64"}),
                  "see telepresence connect --help");
}

TEST(CommandLineTest, UnknownGlobalFlag) {
  std::string error = ParseError({"--verbose", "status"});
  EXPECT_CONTAINS(error, "unknown flag --verbose");
  EXPECT_CONTAINS(error, "telepresence --help");
}

TEST(ComposeCommandLineTest, OwnFlagsThenDockerComposeWordsVerbatim) {
  const auto compose =
      ParseAs<ComposeCommand>({"compose", "--context", "dev", "-f", "a.yml", "--file=b.yml", "-p",
                               "shop", "up", "-d", "--context", "x", "-f", "c.yml"});
  EXPECT_EQ(compose.context_name, "dev");
  EXPECT_EQ(compose.files, (Args{"a.yml", "b.yml"}));
  EXPECT_EQ(compose.project_name, "shop");
  EXPECT_EQ(compose.compose_args, (Args{"up", "-d", "--context", "x", "-f", "c.yml"}));
  const auto plain = ParseAs<ComposeCommand>({"compose", "logs", "--help"});
  EXPECT_TRUE(plain.files.empty());
  EXPECT_FALSE(plain.project_name);
  EXPECT_EQ(plain.compose_args, (Args{"logs", "--help"}));
}

TEST(ComposeCommandLineTest, HelpAndErrors) {
  EXPECT_EQ(ParseAs<HelpRequest>({"compose", "--help"}).command, "compose");
  EXPECT_EQ(ParseError({"compose", "-f", "a.yml"}),
            "compose needs a docker-compose command, e.g. telepresence compose up -d; see "
            "telepresence compose --help");
  EXPECT_NE(HelpText("compose").find("x-tele"), std::string::npos);
  EXPECT_NE(HelpText("").find("compose"), std::string::npos);
}

}  // namespace
}  // namespace tp::cli
