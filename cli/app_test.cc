#include "cli/app.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <vector>

#include "cli/test_fakes.h"
#include "cli/test_temp_dir.h"
#include "cli/version.h"

namespace tp::cli {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FakeClock;
using testing::FakeDaemonControl;
using testing::FakeDocker;
using testing::FakeImageBuilder;
using testing::FakePluginInstaller;
using testing::FixedEnvironment;
using testing::StatusBody;
using testing::TempDir;
using testing::WriteFile;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

constexpr char kManager[] = "172.17.0.1:18081";

std::string LastLine(const std::string& text) {
  std::string trimmed = text.substr(0, text.find_last_not_of('\n') + 1);
  return trimmed.substr(trimmed.rfind('\n') + 1);
}

class AppTest : public ::testing::Test {
 protected:
  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    CliIo io{out_, err_, FixedEnvironment({{"XDG_CONFIG_HOME", config_home_.path().string()}})};
    CliServices services{
        .docker = docker_,
        .daemon_control = [this](const DaemonEndpoint& endpoint) -> std::unique_ptr<DaemonControl> {
          control_ports_.push_back(endpoint.port);
          control_tokens_.insert(endpoint.token);
          return std::make_unique<FakeDaemonControl>(
              [this](int) { return daemon_status_(status_calls_++); },
              [this] { return daemon_quit_(); });
        },
        .image_builder = image_builder_,
        .plugin_installer = plugin_installer_,
        .clock = clock_,
    };
    return RunTelepresence(args, io, services);
  }

  void WriteContext(const std::string& manager = kManager) {
    secret_file_ = config_home_.path() / "secret";
    WriteFile(secret_file_, "s3cret\n");
    WriteFile(config_home_.path() / "telepresence-docker/contexts/default.json",
              R"({"name":"default","manager":")" + manager + R"(","secret_file":")" +
                  secret_file_.string() +
                  R"(","cluster_network":"tp-demo","cluster_subnets":["10.213.0.0/24"]})");
  }

  // The network tp-default (10.200.0.0/24) as connect makes it, with the daemon on it.
  void NetworkWithDaemon() {
    docker_.networks["tp-default"] = {
        .name = "tp-default",
        .driver = "teleroute:latest",
        .subnets = {"10.200.0.0/24"},
        .options = {{"daemon", "10.200.0.2"}, {"subnets", "10.213.0.0/24"}, {"control", "8787"}},
        .labels = {{"telepresence.context", "default"}},
        .containers = {{"cn-id", "tp-default-cn", "10.200.0.2/24"}}};
  }

  // The daemon's container runs; it answers `status` to every GET /status.
  void DaemonRuns(const json& status) {
    docker_.containers["tp-default-cn"] = {"running", "tp.daemon=default"};
    daemon_status_ = [status](int) { return Result<json>(status); };
  }

  TempDir config_home_;
  std::filesystem::path secret_file_;
  std::ostringstream out_;
  std::ostringstream err_;
  FakeDocker docker_;
  FakeClock clock_;
  FakeImageBuilder image_builder_;
  FakePluginInstaller plugin_installer_;
  std::vector<uint16_t> control_ports_;
  std::set<std::string> control_tokens_;  // the tokens the control API was opened with
  int status_calls_ = 0;
  std::function<Result<json>(int call)> daemon_status_ = [](int) {
    return Result<json>(CliError{"connection refused"});
  };
  std::function<Status()> daemon_quit_ = [] { return Status(Ok{}); };
};

TEST_F(AppTest, HelpExitsZeroOnEveryCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"help"},
                                             {"connect", "--help"},
                                             {"status", "-h"},
                                             {"quit", "--help"},
                                             {"curl", "--help"},
                                             {"docker-run", "--help"},
                                             {"help", "curl"}}) {
    EXPECT_EQ(Run(args), kExitOk) << args.front();
    EXPECT_CONTAINS(out_.str(), "Usage: telepresence");
    EXPECT_EQ(err_.str(), "");
  }
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ContextsListsTheContextFilesAsATableOrJson) {
  EXPECT_EQ(Run({"contexts"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("No contexts in"), std::string::npos) << out_.str();
  WriteContext();
  WriteFile(config_home_.path() / "telepresence-docker/contexts/broken.json", "{not json");
  EXPECT_EQ(Run({"contexts"}), kExitOk) << err_.str();
  EXPECT_NE(out_.str().find("default         " + std::string(kManager)), std::string::npos)
      << out_.str();
  EXPECT_NE(out_.str().find("broken          unreadable: "), std::string::npos) << out_.str();
  EXPECT_EQ(Run({"contexts", "--output", "json"}), kExitOk) << err_.str();
  const nlohmann::json listed = nlohmann::json::parse(out_.str());
  ASSERT_EQ(listed["contexts"].size(), 2u);
  EXPECT_EQ(listed["contexts"][0]["name"], "broken");
  EXPECT_TRUE(listed["contexts"][0].contains("error"));
  EXPECT_EQ(listed["contexts"][1]["manager"], kManager);
  EXPECT_EQ(listed["contexts"][1]["cluster_subnets"][0], "10.213.0.0/24");
  EXPECT_EQ(Run({"contexts", "--context", "x"}), kExitUsage);
}

TEST_F(AppTest, ArgumentErrorsExitTwoWithTheSentence) {
  EXPECT_EQ(Run({"connect", "--docker", "--x"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "telepresence: unknown flag --x for connect; see telepresence connect --help\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_CONTAINS(err_.str(), "no command given");
}

TEST_F(AppTest, ConnectStartsTheDaemonAndWaitsUntilItIsReady) {
  WriteContext();
  daemon_status_ = [](int call) -> Result<json> {
    if (call < 3) return CliError{"not listening yet"};
    if (call < 5) return StatusBody(false);
    return StatusBody(true);
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  ASSERT_EQ(docker_.run_detached.size(), 1u);
  const docker::ContainerSpec& daemon = docker_.run_detached[0];
  EXPECT_EQ(daemon.name, "tp-default-cn");
  EXPECT_EQ(daemon.image, "tp-daemon:latest");
  EXPECT_EQ(daemon.labels, (docker::Labels{{"tp.daemon", "default"}}));
  EXPECT_EQ(daemon.cap_add, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_TRUE(daemon.auto_remove);
  EXPECT_EQ(daemon.network_mode, "") << "Docker's default bridge";
  ASSERT_EQ(daemon.ports.size(), 1u);
  EXPECT_EQ(daemon.ports[0].container_port, "8787/tcp");
  EXPECT_EQ(daemon.ports[0].host_ip, "127.0.0.1");
  ASSERT_EQ(daemon.binds.size(), 1u);
  EXPECT_EQ(daemon.binds[0].source, secret_file_.string());
  EXPECT_EQ(daemon.binds[0].target, "/run/secrets/tp-daemon-secret");
  EXPECT_TRUE(daemon.binds[0].read_only);
  EXPECT_EQ(daemon.cmd, (std::vector<std::string>{"--manager", kManager, "--secret-file",
                                                  "/run/secrets/tp-daemon-secret", "--control",
                                                  "0.0.0.0:8787", "--dns", "0.0.0.0:53", "--name",
                                                  "default", "--write-resolv-conf"}));
  EXPECT_EQ(control_ports_, std::vector<uint16_t>{49153});
  EXPECT_EQ(control_tokens_, std::set<std::string>{"t0ken"}) << "the token docker inspect shows";
  EXPECT_EQ(out_.str(),
            "Daemon container: tp-default-cn (control API on 127.0.0.1:49153)\n"
            "Cluster subnets: 10.213.0.0/24\n"
            "DNS search domains: default.svc.cluster.local, cluster.local\n"
            "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n"
            "Connected to 172.17.0.1:18081 (context default) in 0.1 s\n");
  EXPECT_EQ(err_.str(),
            "Connecting to the traffic-manager at 172.17.0.1:18081 ... connected\n"
            "Creating the Teleroute network tp-default (10.200.0.0/24, daemon 10.200.0.2)\n");
  EXPECT_TRUE(docker_.containers.contains("tp-default-cn"));
  EXPECT_TRUE(image_builder_.builds.empty());
  EXPECT_TRUE(plugin_installer_.installs.empty());
  ASSERT_EQ(docker_.network_creates.size(), 1u);
  const docker::NetworkSpec& network = docker_.network_creates[0];
  EXPECT_EQ(network.name, "tp-default");
  EXPECT_EQ(network.driver, "teleroute:latest");
  ASSERT_EQ(network.pools.size(), 1u);
  EXPECT_EQ(network.pools[0].subnet, "10.200.0.0/24");
  EXPECT_EQ(network.pools[0].gateway, "10.200.0.1");
  EXPECT_EQ(network.pools[0].ip_range, "10.200.0.128/25");
  EXPECT_EQ(network.options,
            (std::map<std::string, std::string>{
                {"daemon", "10.200.0.2"}, {"subnets", "10.213.0.0/24"}, {"control", "8787"}}));
  EXPECT_EQ(network.labels, (docker::Labels{{"telepresence.context", "default"},
                                            {"telepresence.docker_gwbridge", "ours"}}));
  EXPECT_EQ(docker_.network_connects,
            (std::vector<Argv>{{"docker", "network", "connect", "--ip", "10.200.0.2", "tp-default",
                                "tp-default-cn"}}));
}

// The daemon gets a fresh random control token in its environment, through the Engine API
// (no argv and no file holds it).
TEST_F(AppTest, ConnectGivesTheDaemonAFreshControlToken) {
  WriteContext();
  daemon_status_ = [](int) -> Result<json> { return StatusBody(true); };
  auto Token = [this] {
    const std::vector<std::string>& env = docker_.run_detached.back().env;
    EXPECT_EQ(env.size(), 1u);
    return env.empty() ? std::string() : env[0];
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  const std::string prefix = "TP_CONTROL_TOKEN=";
  const std::string first = Token();
  ASSERT_EQ(first.size(), prefix.size() + 32) << first;
  EXPECT_TRUE(first.starts_with(prefix)) << first;
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef", prefix.size()), std::string::npos) << first;
  docker_.containers.clear();
  docker_.networks.erase("tp-default");
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_NE(Token(), first) << "each daemon gets its own token";
}

TEST_F(AppTest, ConnectWaitsForTheDnsServerToo) {
  WriteContext();
  daemon_status_ = [](int call) -> Result<json> {
    return StatusBody(true, "", call < 4 ? "" : "172.17.0.2:53");
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(status_calls_, 5);
}

TEST_F(AppTest, ConnectRefusesALoopbackManagerBeforeTouchingDocker) {
  for (const char* manager : {"127.0.0.1:40123", "localhost:40123", "[::1]:40123"}) {
    WriteContext(manager);
    EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure) << manager;
    EXPECT_CONTAINS(err_.str(), "telepresence connect: the traffic-manager address " +
                                    std::string(manager) + " is on this host's loopback");
    EXPECT_CONTAINS(err_.str(), "daemon container cannot reach");
    EXPECT_CONTAINS(err_.str(), "172.17.0.1");
    EXPECT_CONTAINS(err_.str(), "--manager HOST:PORT");
  }
  WriteContext();
  EXPECT_EQ(Run({"connect", "--docker", "--manager", "127.0.0.2:1"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "127.0.0.2:1 is on this host's loopback");
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ConnectToUnknownContextFailsListingTheContexts) {
  WriteContext();
  EXPECT_EQ(Run({"--docker", "connect", "--context", "prod"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "telepresence connect: unknown context 'prod'");
  EXPECT_CONTAINS(err_.str(), "available contexts: default");
}

TEST_F(AppTest, ConnectWithoutTheSecretFileSaysWhereToPutIt) {
  WriteContext();
  std::filesystem::remove(secret_file_);
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "the secret file " + secret_file_.string());
  EXPECT_CONTAINS(err_.str(), "is missing");
  WriteFile(secret_file_, "");
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), secret_file_.string() + " (from ");
  EXPECT_CONTAINS(err_.str(), "is empty; write the traffic-manager's shared secret into it");
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ConnectKeepsADaemonThatIsAlreadyConnected) {
  WriteContext();
  DaemonRuns(StatusBody(true));
  NetworkWithDaemon();
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n"
            "Already connected to 172.17.0.1:18081 (context default)\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_TRUE(docker_.run_detached.empty());
  EXPECT_TRUE(docker_.removed.empty());
  EXPECT_TRUE(docker_.network_creates.empty());

  EXPECT_EQ(Run({"connect", "--docker", "--docker-subnet", "10.77.0.0/24"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "already connected with the Teleroute network tp-default "
                  "(10.200.0.0/24, daemon 10.200.0.2)");
  EXPECT_CONTAINS(err_.str(), "run telepresence quit first to use --docker-subnet 10.77.0.0/24");
  EXPECT_TRUE(docker_.containers.contains("tp-default-cn"));
}

TEST_F(AppTest, ConnectGivesAnAlreadyConnectedDaemonItsMissingNetwork) {
  WriteContext();
  DaemonRuns(StatusBody(true));
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n"
            "Already connected to 172.17.0.1:18081 (context default)\n");
  EXPECT_EQ(docker_.network_creates.size(), 1u);
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ConnectRefusesWhenTheDaemonIsConnectedElsewhere) {
  WriteContext();
  DaemonRuns(StatusBody(true, "", "172.17.0.2:53", "10.0.0.9:1"));
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "is connected to 10.0.0.9:1, not to 172.17.0.1:18081");
  EXPECT_CONTAINS(err_.str(), "telepresence quit");
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ConnectReplacesAStoppedOrDisconnectedDaemon) {
  WriteContext();
  docker_.containers["tp-default-cn"] = {"exited", "tp.daemon=default"};
  docker_.labelled_networks["tp.daemon=default"] = {"tp-default"};
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_CONTAINS(err_.str(), "Removing the daemon container tp-default-cn: it is exited");
  EXPECT_EQ(docker_.removed, (std::vector<std::string>{"tp-default-cn", "tp-default"}));
  EXPECT_EQ(docker_.run_detached.size(), 1u);

  docker_.removed.clear();
  int calls_before = status_calls_;
  daemon_status_ = [calls_before](int call) {
    return Result<json>(call == calls_before ? StatusBody(false, "tunnel lost: reset")
                                             : StatusBody(true));
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_CONTAINS(err_.str(), "it is not connected (tunnel lost: reset)");
  EXPECT_CONTAINS(err_.str(), "Removing the leftover network tp-default");
  EXPECT_EQ(docker_.removed, (std::vector<std::string>{"tp-default-cn", "tp-default"}));
  EXPECT_TRUE(docker_.networks.contains("tp-default"));
  EXPECT_EQ(docker_.run_detached.size(), 2u);
}

TEST_F(AppTest, ConnectFailsAtOnceWhenTheManagerRefusesTheSecret) {
  WriteContext();
  daemon_status_ = [](int call) -> Result<json> {
    if (call == 0) return CliError{"not listening yet"};
    return StatusBody(false, "refused by the traffic-manager: wrong secret");
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_LT(clock_.Now().time_since_epoch(), 1s);
  EXPECT_CONTAINS(err_.str(), "Connecting to the traffic-manager at 172.17.0.1:18081 ... failed\n");
  EXPECT_CONTAINS(err_.str(),
                  "telepresence connect: the traffic-manager at 172.17.0.1:18081 refused the "
                  "daemon (refused by the traffic-manager: wrong secret)");
  EXPECT_CONTAINS(err_.str(), "check that the secret file " + secret_file_.string());
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default-cn"});
  EXPECT_EQ(out_.str(), "");
}

TEST_F(AppTest, ConnectGivesUpOnAnUnreachableManagerAtTheTimeout) {
  WriteContext();
  const std::string error =
      "cannot reach the traffic-manager: cannot connect to 172.17.0.1:18081: Connection refused";
  daemon_status_ = [error](int) { return Result<json>(StatusBody(false, error)); };
  EXPECT_EQ(Run({"connect", "--docker", "--timeout", "3"}), kExitFailure);
  EXPECT_GE(clock_.Now().time_since_epoch(), 3s);
  EXPECT_LT(clock_.Now().time_since_epoch(), 4s);
  EXPECT_CONTAINS(err_.str(),
                  "Connecting to the traffic-manager at 172.17.0.1:18081 ...... failed\n");
  EXPECT_CONTAINS(err_.str(),
                  "no connection to the traffic-manager at 172.17.0.1:18081 within "
                  "3.0 s (last error: " +
                      error + ")");
  EXPECT_CONTAINS(err_.str(), "Docker's default bridge network");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default-cn"});
}

TEST_F(AppTest, ConnectPrintsADotPerSecondWhileWaiting) {
  WriteContext();
  daemon_status_ = [](int call) { return Result<json>(StatusBody(call >= 125)); };  // 20 ms each
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk);
  EXPECT_CONTAINS(err_.str(),
                  "Connecting to the traffic-manager at 172.17.0.1:18081 ..... connected\n");
  EXPECT_EQ(LastLine(out_.str()), "Connected to 172.17.0.1:18081 (context default) in 2.5 s");
}

TEST_F(AppTest, ConnectReportsADaemonThatStopsWithHowToSeeWhy) {
  WriteContext();
  docker_.on_run_detached = [](FakeDocker&, const docker::ContainerSpec&) {};  // --rm: gone
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "the daemon container tp-default-cn stopped before it connected and left no log");
  EXPECT_CONTAINS(err_.str(), "run it in the foreground: docker run --rm --pull never");
  EXPECT_EQ(err_.str().find(" -d "), std::string::npos) << err_.str();
}

TEST_F(AppTest, ConnectQuotesTheLastWordsOfADaemonThatStops) {
  WriteContext();
  docker_.on_run_detached = [](FakeDocker& docker, const docker::ContainerSpec& spec) {
    docker.log_lines[spec.name] = {"starting", "cannot start the DNS server: port 53 is taken"};
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "stopped before it connected; its last words:\n  starting\n"
                  "  cannot start the DNS server: port 53 is taken\n; to watch it, run it in the "
                  "foreground: docker run");
}

TEST_F(AppTest, ConnectBuildsMissingImagesFirst) {
  WriteContext();
  docker_.images = {std::string(kCurlImage)};
  image_builder_.build = [this](const std::vector<std::string>& images) {
    for (const std::string& image : images) docker_.images.insert(image);
    return Status(Ok{});
  };
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(image_builder_.builds, std::vector<std::vector<std::string>>{{"tp-daemon:latest"}});
  EXPECT_CONTAINS(err_.str(), "Building the missing image tp-daemon:latest ...");
}

TEST_F(AppTest, ConnectFailsWhenAMissingImageCannotBeBuilt) {
  WriteContext();
  docker_.images.clear();
  image_builder_.build = [](const std::vector<std::string>&) {
    return Status(CliError{"build them with make images"});
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "telepresence connect: build them with make images");
  EXPECT_EQ(image_builder_.builds,
            (std::vector<std::vector<std::string>>{{"tp-daemon:latest", "tp-curl:latest"}}));
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, DockerFailuresAreReportedAsTheyCome) {
  WriteContext();
  docker_.fail_everything = "docker ps -a failed (exit 1): Cannot connect to the Docker daemon";
  for (const char* command : {"connect", "status", "quit", "curl"}) {
    std::vector<std::string> args{command};
    if (args[0] == "connect") args.push_back("--docker");
    if (args[0] == "curl") args.push_back("http://echo");
    EXPECT_EQ(Run(args), kExitFailure) << command;
    EXPECT_CONTAINS(err_.str(), "telepresence " + args[0] + ": docker ps -a failed");
  }
}

TEST_F(AppTest, StatusWithoutDaemon) {
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_EQ(out_.str(), "Not connected (context default)\nConnected: no\n");
  EXPECT_EQ(Run({"status", "--context", "dev", "-o", "json"}), kExitOk);
  EXPECT_EQ(json::parse(out_.str()),
            json::parse(R"({"connected":false,"context":"dev","container":null})"));
}

TEST_F(AppTest, StatusOfAStoppedDaemonContainer) {
  docker_.containers["tp-default-cn"] = {"exited", "tp.daemon=default"};
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "Not connected (context default): the daemon container tp-default-cn is exited\n"
            "Connected: no\n");
}

TEST_F(AppTest, StatusOfARunningDaemon) {
  DaemonRuns(StatusBody(true));
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "Connected: yes\n"
            "Context: default\n"
            "Daemon container: tp-default-cn\n"
            "Teleroute network: none\n"
            "Traffic-manager: 172.17.0.1:18081\n"
            "Cluster subnets: 10.213.0.0/24\n"
            "DNS server: 172.17.0.2:53\n"
            "DNS search domains: default.svc.cluster.local, cluster.local\n"
            "Capture: off\n"
            "Reconnects: 0\n");
  EXPECT_EQ(Run({"status", "--output", "json"}), kExitOk);
  json body = json::parse(out_.str());
  EXPECT_EQ(body["connected"], true);
  EXPECT_EQ(body["context"], "default");
  EXPECT_EQ(body["container"], "tp-default-cn");
  EXPECT_EQ(body["manager"], kManager);
  EXPECT_EQ(body["dns"]["address"], "172.17.0.2:53");
  EXPECT_EQ(body["teleroute_network"], nullptr);
}

TEST_F(AppTest, StatusShowsTheTelerouteNetwork) {
  DaemonRuns(StatusBody(true));
  NetworkWithDaemon();
  EXPECT_EQ(Run({"status"}), kExitOk);
  EXPECT_CONTAINS(out_.str(),
                  "Daemon container: tp-default-cn\n"
                  "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n");
  EXPECT_EQ(Run({"status", "-o", "json"}), kExitOk);
  EXPECT_EQ(json::parse(out_.str())["teleroute_network"],
            json::parse(R"({"name":"tp-default","subnet":"10.200.0.0/24","daemon":"10.200.0.2",)"
                        R"("daemon_attached":true})"));
}

TEST_F(AppTest, StatusWhenTheControlApiDoesNotAnswer) {
  docker_.containers["tp-default-cn"] = {"running", "tp.daemon=default"};
  EXPECT_EQ(Run({"status"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "telepresence status: the daemon container tp-default-cn runs but "
                  "its control API does not answer: connection refused");
}

TEST_F(AppTest, QuitWhenNotConnected) {
  EXPECT_EQ(Run({"quit"}), kExitOk);
  EXPECT_EQ(out_.str(), "Not connected (context default); nothing to quit\n");
  EXPECT_TRUE(docker_.removed.empty());
}

TEST_F(AppTest, QuitAsksTheDaemonAndWaitsUntilItsContainerIsGone) {
  DaemonRuns(StatusBody(true));
  docker_.labelled_networks["tp.daemon=default"] = {"tp-default"};
  int quits = 0;
  daemon_quit_ = [this, &quits] {
    ++quits;
    docker_.containers.erase("tp-default-cn");  // --rm
    return Status(Ok{});
  };
  EXPECT_EQ(Run({"quit"}), kExitOk);
  EXPECT_EQ(quits, 1);
  EXPECT_EQ(out_.str(), "Disconnected (context default)\n");
  EXPECT_EQ(err_.str(), "");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default"});
}

TEST_F(AppTest, QuitRemovesADaemonThatDoesNotStop) {
  DaemonRuns(StatusBody(true));
  EXPECT_EQ(Run({"quit"}), kExitOk);
  EXPECT_GE(clock_.Now().time_since_epoch(), 10s);
  EXPECT_CONTAINS(err_.str(), "did not stop within 10 s; removing it by force");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default-cn"});
  EXPECT_EQ(out_.str(), "Disconnected (context default)\n");
}

TEST_F(AppTest, QuitRemovesAStoppedContainerAndLeftovers) {
  docker_.containers["tp-dev-cn"] = {"created", ""};
  docker_.containers["other"] = {"running", "tp.daemon=dev"};
  EXPECT_EQ(Run({"quit", "--context", "dev"}), kExitOk);
  EXPECT_EQ(docker_.removed, (std::vector<std::string>{"other", "tp-dev-cn"}));
  EXPECT_TRUE(control_ports_.empty());
}

TEST_F(AppTest, CurlNeedsAConnectedDaemon) {
  EXPECT_EQ(Run({"curl", "http://echo.default:8080"}), kExitFailure);
  EXPECT_EQ(err_.str(), "telepresence curl: not connected; run telepresence connect --docker\n");
  EXPECT_EQ(Run({"curl", "--context", "dev", "http://echo.default:8080"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "run telepresence connect --docker --context dev");
  EXPECT_TRUE(docker_.run_attached.empty());
}

TEST_F(AppTest, CurlRunsInTheDaemonsNetworkAndReturnsCurlsExitCode) {
  DaemonRuns(StatusBody(true));
  docker_.attached_exit_code = 7;
  EXPECT_EQ(Run({"curl", "-s", "http://echo.default:8080"}), 7);
  ASSERT_EQ(docker_.run_attached.size(), 1u);
  EXPECT_EQ(docker_.run_attached[0],
            (Argv{"docker", "run", "--rm", "-i", "--init", "--pull", "never", "--network",
                  "container:tp-default-cn", "tp-curl:latest", "curl", "-s",
                  "http://echo.default:8080"}));
}

TEST_F(AppTest, CurlBuildsItsImageWhenMissing) {
  DaemonRuns(StatusBody(true));
  docker_.images.erase(std::string(kCurlImage));
  image_builder_.build = [this](const std::vector<std::string>& images) {
    docker_.images.insert(images.begin(), images.end());
    return Status(Ok{});
  };
  EXPECT_EQ(Run({"curl", "http://echo"}), 0);
  EXPECT_EQ(image_builder_.builds, std::vector<std::vector<std::string>>{{"tp-curl:latest"}});
}

TEST_F(AppTest, ConnectPicksASubnetClearOfTheClusterAndOfDockerNetworks) {
  WriteContext();
  docker_.networks["other"] = {.name = "other", .subnets = {"10.200.0.0/24", "fd00::/64"}};
  docker_.networks["big"] = {.name = "big", .subnets = {"10.200.2.0/23"}};
  json status = StatusBody(true);
  status["subnets"] = {"10.200.1.128/25", "10.96.0.0/12"};
  daemon_status_ = [status](int) { return Result<json>(status); };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  ASSERT_EQ(docker_.network_creates.size(), 1u);
  const docker::NetworkSpec& create = docker_.network_creates[0];
  EXPECT_EQ(create.pools.at(0).subnet, "10.200.4.0/24");
  EXPECT_EQ(create.pools.at(0).gateway, "10.200.4.1");
  EXPECT_EQ(create.options.at("daemon"), "10.200.4.2");
  EXPECT_EQ(create.options.at("subnets"), "10.200.1.128/25,10.96.0.0/12");
  EXPECT_CONTAINS(out_.str(), "Teleroute network: tp-default (10.200.4.0/24, daemon 10.200.4.2)\n");
}

TEST_F(AppTest, ConnectUsesTheGivenDockerSubnet) {
  WriteContext();
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker", "--docker-subnet", "10.50.0.0/16"}), kExitOk) << err_.str();
  ASSERT_EQ(docker_.network_creates.size(), 1u);
  EXPECT_EQ(docker_.network_creates[0].pools.at(0).subnet, "10.50.0.0/16");
  EXPECT_EQ(docker_.network_connects[0][4], "10.50.0.2");
  EXPECT_EQ(docker_.networks["tp-default"].containers.size(), 1u);
}

TEST_F(AppTest, ConnectRefusesADockerSubnetThatClashesAndLeavesNothing) {
  WriteContext();
  docker_.networks["tp-demo"] = {.name = "tp-demo", .subnets = {"10.213.0.0/24"}};
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker", "--docker-subnet", "10.213.0.0/16"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "telepresence connect: --docker-subnet 10.213.0.0/16 overlaps the cluster "
                  "subnet 10.213.0.0/24");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default-cn"});
  EXPECT_TRUE(docker_.network_creates.empty());

  EXPECT_EQ(Run({"connect", "--docker", "--docker-subnet", "172.17.5.0/24"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "overlaps the Docker network bridge (172.17.0.0/16)");
  EXPECT_FALSE(docker_.containers.contains("tp-default-cn"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(AppTest, ConnectSaysWhatItScannedWhenNoSubnetIsFree) {
  WriteContext();
  docker_.networks["all"] = {.name = "all", .subnets = {"10.192.0.0/10"}};
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "no free /24 for the Teleroute network in 10.200.0.0/16 to "
                  "10.255.0.0/16");
  EXPECT_CONTAINS(err_.str(), "--docker-subnet CIDR");
  EXPECT_FALSE(docker_.containers.contains("tp-default-cn"));
}

TEST_F(AppTest, ConnectLeavesNothingWhenTheNetworkCannotBeCreated) {
  WriteContext();
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  docker_.fail_network_create =
      "docker network create -d teleroute:latest ... failed (exit 1): "
      "option daemon: bad";
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "telepresence connect: cannot create the Teleroute network "
                  "tp-default: docker network create");
  EXPECT_CONTAINS(err_.str(), "option daemon: bad");
  EXPECT_CONTAINS(err_.str(), "make plugins");
  EXPECT_CONTAINS(err_.str(), "then run telepresence connect --docker again");
  EXPECT_FALSE(docker_.containers.contains("tp-default-cn"));
  EXPECT_FALSE(docker_.networks.contains("tp-default"));
  EXPECT_EQ(out_.str(), "");
}

TEST_F(AppTest, ConnectLeavesNothingWhenTheDaemonCannotBeAttached) {
  WriteContext();
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  docker_.fail_network_connect = "docker network connect --ip 10.200.0.2 ... failed (exit 1)";
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "cannot attach the daemon container tp-default-cn to the Teleroute "
                  "network tp-default");
  EXPECT_EQ(docker_.removed, (std::vector<std::string>{"tp-default", "tp-default-cn"}));
  EXPECT_FALSE(docker_.networks.contains("tp-default"));
  EXPECT_FALSE(docker_.containers.contains("tp-default-cn"));
}

TEST_F(AppTest, ConnectReplacesALeftoverNetworkDisconnectingItsContainers) {
  WriteContext();
  NetworkWithDaemon();
  docker_.networks["tp-default"].containers = {{"web-id", "web", "10.200.0.3/24"}};
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_CONTAINS(err_.str(), "Removing the leftover network tp-default\n");
  EXPECT_EQ(docker_.network_disconnects,
            (std::vector<Argv>{{"docker", "network", "disconnect", "-f", "tp-default", "web-id"}}));
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default"});
  EXPECT_EQ(docker_.network_creates.size(), 1u);
  EXPECT_EQ(docker_.network_creates[0].pools.at(0).subnet, "10.200.0.0/24");
}

TEST_F(AppTest, ConnectInstallsMissingPluginsAndEnablesDisabledOnes) {
  WriteContext();
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  docker_.plugins = {{"telemount:latest", false}};
  plugin_installer_.install = [this](const std::vector<std::string>&) {
    docker_.plugins = {{"teleroute:latest", true}, {"telemount:latest", true}};
    return Status(Ok{});
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(plugin_installer_.installs,
            std::vector<std::vector<std::string>>{{"teleroute:latest"}});
  EXPECT_CONTAINS(err_.str(), "Installing the missing Docker plugin teleroute:latest ...");
  EXPECT_CONTAINS(err_.str(), "Enabling the Docker plugin telemount:latest");
  EXPECT_EQ(docker_.enabled_plugins, std::vector<std::string>{"telemount:latest"});

  docker_.enabled_plugins.clear();
  docker_.plugins["teleroute:latest"] = false;
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(docker_.enabled_plugins, std::vector<std::string>{"teleroute:latest"});
  EXPECT_CONTAINS(err_.str(), "Enabling the Docker plugin teleroute:latest");
  EXPECT_EQ(plugin_installer_.installs.size(), 1u);
}

TEST_F(AppTest, ConnectInstallsMissingPluginsFromTheSettingsRegistryAndTheFlagOverridesIt) {
  WriteContext();
  daemon_status_ = [](int) { return Result<json>(StatusBody(true)); };
  const std::string version(TelepresenceVersion());
  for (const std::string registry : {"settings.example:5000", "flag.example:5000"}) {
    for (std::string_view name : kManagedPluginNames) {
      docker_.registry_plugins[PluginRemote(registry, name, version)] = version;
    }
  }
  WriteFile(config_home_.path() / "telepresence-docker/config.json",
            R"({"plugin_registry": "settings.example:5000"})");
  docker_.plugins.clear();
  EXPECT_EQ(Run({"connect", "--docker"}), kExitOk) << err_.str();
  EXPECT_EQ(docker_.plugin_pulls,
            (std::vector<std::string>{
                "settings.example:5000/teleroute:" + version + " as teleroute:latest",
                "settings.example:5000/telemount:" + version + " as telemount:latest"}));
  EXPECT_TRUE(plugin_installer_.installs.empty());

  docker_.plugins.erase("telemount:latest");
  docker_.plugin_pulls.clear();
  EXPECT_EQ(Run({"connect", "--docker", "--plugin-registry", "flag.example:5000"}), kExitOk)
      << err_.str();
  EXPECT_EQ(
      docker_.plugin_pulls,
      std::vector<std::string>{"flag.example:5000/telemount:" + version + " as telemount:latest"});
}

TEST_F(AppTest, ConnectRefusesAPluginOfAnotherVersionBeforeStartingTheDaemon) {
  WriteContext();
  docker_.plugin_versions["teleroute:latest"] = "0.0.1";
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "teleroute:latest is version 0.0.1");
  EXPECT_CONTAINS(err_.str(), "--upgrade-plugins");
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, ABrokenSettingsFileIsAnErrorThatNamesIt) {
  WriteContext();
  WriteFile(config_home_.path() / "telepresence-docker/config.json", R"({"plugin_registry": 5})");
  EXPECT_EQ(Run({"plugins", "install"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "telepresence-docker/config.json: plugin_registry must be");
}

TEST_F(AppTest, PluginsStatusListsBothWithTheirState) {
  docker_.plugins = {{"teleroute:latest", false}};
  docker_.plugin_versions["teleroute:latest"] = "0.0.1";
  EXPECT_EQ(Run({"plugins", "status", "--output", "json"}), kExitOk) << err_.str();
  json status = json::parse(out_.str());
  EXPECT_EQ(status["version"], TelepresenceVersion());
  EXPECT_EQ(status["plugins"][0]["name"], "teleroute:latest");
  EXPECT_EQ(status["plugins"][0]["state"], "other version");
  EXPECT_EQ(status["plugins"][0]["version"], "0.0.1");
  EXPECT_EQ(status["plugins"][1]["state"], "missing");
  EXPECT_FALSE(status["plugins"][1]["installed"]);

  EXPECT_EQ(Run({"plugins", "status"}), kExitOk) << err_.str();
  EXPECT_CONTAINS(out_.str(), "teleroute:latest  0.0.1     no       other version");
  EXPECT_CONTAINS(out_.str(), "telemount:latest  -         -        missing");
}

TEST_F(AppTest, PluginsInstallFromANonReleaseFileSaysSoAndCreatesNothing) {
  docker_.plugins.clear();
  WriteFile(config_home_.path() / "not-a-release.tar.gz", "text");
  EXPECT_EQ(Run({"plugins", "install", "--from",
                 (config_home_.path() / "not-a-release.tar.gz").string()}),
            kExitFailure);
  EXPECT_CONTAINS(err_.str(), "as a release file of make dist");
  EXPECT_TRUE(docker_.plugin_creates.empty());
}

TEST_F(AppTest, VersionPrintsTheProjectsVersion) {
  EXPECT_EQ(Run({"version"}), kExitOk);
  EXPECT_EQ(out_.str(), "telepresence " + std::string(TelepresenceVersion()) + "\n");
}

TEST_F(AppTest, ConnectFailsBeforeStartingTheDaemonWhenPluginsCannotBeInstalled) {
  WriteContext();
  docker_.plugins.clear();
  plugin_installer_.install = [](const std::vector<std::string>&) {
    return Status(CliError{"install them with make plugins"});
  };
  EXPECT_EQ(Run({"connect", "--docker"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "Installing the missing Docker plugins teleroute:latest "
                  "telemount:latest ...");
  EXPECT_CONTAINS(err_.str(), "telepresence connect: install them with make plugins");
  EXPECT_TRUE(docker_.run_detached.empty());
}

TEST_F(AppTest, QuitRemovesTheNetworkAfterTheDaemonDisconnectingWhatIsLeft) {
  DaemonRuns(StatusBody(true));
  NetworkWithDaemon();
  docker_.networks["tp-default"].containers.push_back({"web-id", "web", "10.200.0.3/24"});
  daemon_quit_ = [this] {
    docker_.RemoveContainer("tp-default-cn");  // --rm
    return Status(Ok{});
  };
  EXPECT_EQ(Run({"quit"}), kExitOk) << err_.str();
  EXPECT_EQ(docker_.network_disconnects,
            (std::vector<Argv>{{"docker", "network", "disconnect", "-f", "tp-default", "web-id"}}));
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-default"});
  EXPECT_FALSE(docker_.networks.contains("tp-default"));
  EXPECT_EQ(out_.str(),
            "Removed the Teleroute network tp-default (disconnected web)\n"
            "Disconnected (context default)\n");
}

TEST_F(AppTest, QuitRemovesANetworkLeftWithoutDaemonAndIsHarmlessWithout) {
  NetworkWithDaemon();
  docker_.networks["tp-default"].containers.clear();
  EXPECT_EQ(Run({"quit"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(),
            "Removed the Teleroute network tp-default\nDisconnected (context default)\n");
  EXPECT_EQ(Run({"quit"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "Not connected (context default); nothing to quit\n");
}

TEST_F(AppTest, DockerRunRefusesWithoutADockerConnection) {
  EXPECT_EQ(Run({"docker-run", "--rm", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "telepresence docker-run: not connected with --docker");
  EXPECT_CONTAINS(err_.str(), "run telepresence connect --docker first\n");
  EXPECT_EQ(Run({"docker-run", "--context", "dev", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "run telepresence connect --docker --context dev first");
  DaemonRuns(StatusBody(true));
  EXPECT_EQ(Run({"docker-run", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "not connected with --docker (there is no network tp-default)");
  NetworkWithDaemon();
  docker_.networks["tp-default"].containers.clear();
  EXPECT_EQ(Run({"docker-run", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "the daemon is not attached to the network tp-default");
  EXPECT_TRUE(docker_.run_attached.empty());
}

TEST_F(AppTest, DockerRunPutsTheContainerOnTheNetworkWithTheDaemonsDns) {
  DaemonRuns(StatusBody(true));
  NetworkWithDaemon();
  docker_.attached_exit_code = 42;
  EXPECT_EQ(
      Run({"docker-run", "--rm", "-p", "8080:80", "busybox", "sh", "-c", "echo $HOME; exit 3"}),
      42);
  ASSERT_EQ(docker_.run_attached.size(), 1u);
  EXPECT_EQ(
      docker_.run_attached[0],
      (Argv{"docker", "run", "--network", "tp-default", "--dns", "10.200.0.2", "--dns-search",
            "default.svc.cluster.local", "--dns-search", "cluster.local", "--dns-option", "ndots:5",
            "--rm", "-p", "8080:80", "busybox", "sh", "-c", "echo $HOME; exit 3"}));
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "");
}

TEST_F(AppTest, DockerRunTakesTheDaemonAddressFromItsEndpointWithoutTheOption) {
  DaemonRuns(StatusBody(true));
  NetworkWithDaemon();
  docker_.networks["tp-default"].options.erase("daemon");
  docker_.networks["tp-default"].containers[0].ipv4_address = "10.200.0.7/24";
  EXPECT_EQ(Run({"docker-run", "busybox"}), 0);
  EXPECT_EQ(FakeDocker::ValueAfter(docker_.run_attached.at(0), "--dns"), "10.200.0.7");
}

}  // namespace
}  // namespace tp::cli
