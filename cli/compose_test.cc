// `telepresence compose` runs in-process against the fake Docker and a scripted daemon: what it
// asks the daemon, what it gives docker-compose, what it leaves and what `down` takes away.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/app.h"
#include "cli/commands.h"
#include "cli/test_fakes.h"
#include "cli/test_temp_dir.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
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
using Event = ForegroundRun::Event;
using Args = std::vector<std::string>;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

constexpr std::string_view kComposeFile = R"yaml(
services:
  local-echo:
    image: tp-echo:latest
    x-tele: {type: replace, name: echo}
  caller:
    image: tp-busybox:latest
)yaml";

std::string ReadText(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class ComposeTest : public ::testing::Test {
 protected:
  ComposeTest() {
    WriteFile(File(), std::string(kComposeFile));
    docker_.containers["tp-default-cn"] = {"running", "tp.daemon=default"};
    docker_.networks["tp-default"] = {.name = "tp-default",
                                      .driver = "teleroute:latest",
                                      .subnets = {"10.200.0.0/24"},
                                      .options = {{"daemon", "10.200.0.2"}},
                                      .labels = {{"telepresence.context", "default"}},
                                      .containers = {{"cn-id", "tp-default-cn", "10.200.0.2/24"}}};
    docker_.networks["bridge"].containers = {{"cn-id", "tp-default-cn", "172.17.0.2/16"}};
    docker_.networks["bridge"].gateways = {"172.17.0.1"};
  }

  fs::path File() const { return tmp_.path() / "shop" / "docker-compose.yml"; }
  fs::path StateDirectory() const {
    return tmp_.path() / "config" / "telepresence-docker" / "compose" / "shop";
  }

  // What docker-compose up makes: the engaged service's container, with its address.
  void ComposeStartsTheContainers() {
    docker_.containers["shop_local-echo_1"] = {"running", "telepresence.engagement=e-1"};
    docker_.networks["tp-default"].containers.push_back(
        {"h-id", "shop_local-echo_1", "10.200.0.130/24"});
    docker_.labelled_volumes["telepresence.compose.project=shop"] = {"tp-shop-local-echo-0"};
  }

  Result<json> Answer(std::string_view method, std::string_view path, const json& body) {
    calls_.push_back(std::string(method) + " " + std::string(path));
    bodies_.push_back(body);
    if (path == "/workloads") {
      return json::parse(R"({"workloads":[{"workload":"echo","container":"echo",
          "ports":[8080,9090],"mounts":["/srv/echo-data"],"engagement":null}]})");
    }
    if (method == "POST" && path == "/engagements") {
      return json{{"id", "e-1"},
                  {"workload", "echo"},
                  {"container", "echo"},
                  {"ports", body["ports"]},
                  {"sftp_port", 40022},
                  {"sftp_token", "0123456789abcdef0123456789abcdef"},
                  {"env", {{"ECHO_MESSAGE", "hello"}}},
                  {"mounts", {"/srv/echo-data"}}};
    }
    if (path == "/engagements") {
      return json{{"engagements", {{{"id", "e-1"}, {"name", "echo"}, {"mode", "replace"}}}}};
    }
    return json::object();
  }

  int Run(const Args& args) {
    CliIo io = Io();
    CliServices services = Services();
    return RunTelepresence(args, io, services);
  }

  CliIo Io() {
    return CliIo{out_, err_,
                 FixedEnvironment({{"XDG_CONFIG_HOME", (tmp_.path() / "config").string()},
                                   {"TMPDIR", tmp_.path().string()}})};
  }

  CliServices Services() {
    return ServicesWithConnectedDaemon(
        docker_, image_builder_, plugin_installer_, clock_,
        [this](std::string_view method, std::string_view path, const json& body) {
          return Answer(method, path, body);
        });
  }

  Args Compose(const Args& words) {
    Args args{"compose", "-f", File().string()};
    args.insert(args.end(), words.begin(), words.end());
    return args;
  }

  Args ComposeArgv(const Args& words, bool with_override) {
    Args argv{"docker-compose", "-p", "shop", "-f", File().string()};
    if (with_override)
      argv.insert(argv.end(), {"-f", (StateDirectory() / "override.json").string()});
    argv.insert(argv.end(), words.begin(), words.end());
    return argv;
  }

  TempDir tmp_;
  std::ostringstream out_;
  std::ostringstream err_;
  FakeDocker docker_;
  FakeClock clock_;
  FakeImageBuilder image_builder_;
  FakePluginInstaller plugin_installer_;
  std::vector<std::string> calls_;
  std::vector<json> bodies_;
};

TEST_F(ComposeTest, UpDetachedEngagesRunsComposeOnTheOverrideAndSendsTheTraffic) {
  ComposeStartsTheContainers();
  EXPECT_EQ(Run(Compose({"up", "-d"})), kExitOk) << err_.str();
  EXPECT_EQ(calls_, (Args{"GET /workloads", "POST /engagements", "POST /engagements/e-1/handler"}));
  EXPECT_EQ(bodies_[1]["workload"], "echo");
  EXPECT_EQ(bodies_[1]["mode"], "replace");
  EXPECT_EQ(bodies_[1]["ports"], json({8080, 9090}));
  EXPECT_EQ(bodies_[2],
            json({{"address", "10.200.0.130"}, {"ports", {{"8080", 8080}, {"9090", 9090}}}}));
  EXPECT_EQ(docker_.run_attached, std::vector<Args>{ComposeArgv({"up", "-d"}, true)});
  ASSERT_EQ(docker_.volume_creates.size(), 1u);
  EXPECT_EQ(docker_.volume_creates[0].name, "tp-shop-local-echo-0");

  const json override = json::parse(ReadText(StateDirectory() / "override.json"));
  const std::string env_file = (StateDirectory() / "local-echo.env").string();
  EXPECT_EQ(override["services"]["local-echo"]["env_file"], json({env_file}));
  EXPECT_EQ(override["services"]["local-echo"]["volumes"],
            json({"tp-shop-local-echo-0:/srv/echo-data"}));
  EXPECT_EQ(override["services"]["caller"]["dns"], json({"10.200.0.2"}));
  EXPECT_EQ(ReadText(env_file), "ECHO_MESSAGE=hello\n");
  struct stat info {};
  ASSERT_EQ(::stat(env_file.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat(StateDirectory().c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  EXPECT_CONTAINS(err_.str(), "Engaged: the service local-echo (shop_local-echo_1, 10.200.0.130)");
  EXPECT_CONTAINS(err_.str(), "The engagements stay until telepresence compose down");
}

TEST_F(ComposeTest, DownEndsTheEngagementsAndLeavesNothing) {
  ComposeStartsTheContainers();
  ASSERT_EQ(Run(Compose({"up", "-d"})), kExitOk) << err_.str();
  calls_.clear();
  docker_.removed.clear();
  EXPECT_EQ(Run(Compose({"down", "-t", "1"})), kExitOk) << err_.str();
  EXPECT_EQ(docker_.run_attached.back(), ComposeArgv({"down", "-t", "1"}, true));
  EXPECT_EQ(calls_, (Args{"GET /engagements", "DELETE /engagements/e-1"}));
  EXPECT_EQ(docker_.removed, Args{"tp-shop-local-echo-0"});
  EXPECT_FALSE(fs::exists(StateDirectory()));
  EXPECT_CONTAINS(err_.str(), "Ended the engagement e-1 of echo (service local-echo)");
}

TEST_F(ComposeTest, OtherCommandsPassThroughWithTheSameFiles) {
  EXPECT_EQ(Run(Compose({"ps", "-a"})), kExitOk) << err_.str();
  EXPECT_EQ(docker_.run_attached, std::vector<Args>{ComposeArgv({"ps", "-a"}, false)});
  ComposeStartsTheContainers();
  ASSERT_EQ(Run(Compose({"up", "-d"})), kExitOk) << err_.str();
  docker_.attached_exit_code = 3;
  EXPECT_EQ(Run(Compose({"logs", "caller"})), 3);
  EXPECT_EQ(docker_.run_attached.back(), ComposeArgv({"logs", "caller"}, true));
}

TEST_F(ComposeTest, NotConnectedSaysToConnectFirstAndMakesNothing) {
  docker_.RemoveContainer("tp-default-cn");
  EXPECT_EQ(Run(Compose({"up", "-d"})), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "run telepresence connect --docker first");
  EXPECT_TRUE(docker_.run_attached.empty());
  EXPECT_FALSE(fs::exists(StateDirectory()));
}

TEST_F(ComposeTest, AnUnknownWorkloadIsRefusedBeforeAnythingIsMade) {
  WriteFile(File(), "services:\n  a:\n    image: x\n    x-tele: {type: ingest, name: nope}\n");
  EXPECT_EQ(Run(Compose({"up", "-d"})), kExitFailure);
  EXPECT_CONTAINS(err_.str(),
                  "the service a engages the workload nope, which the cluster does not have; its "
                  "workloads are echo");
  EXPECT_EQ(calls_, Args{"GET /workloads"});
  EXPECT_TRUE(docker_.run_attached.empty());
  EXPECT_FALSE(fs::exists(StateDirectory()));
}

TEST_F(ComposeTest, AFailedUpUndoesEverything) {
  docker_.attached_exit_code = 1;
  EXPECT_EQ(Run(Compose({"up", "-d"})), 1);
  EXPECT_EQ(docker_.run_attached,
            (std::vector<Args>{ComposeArgv({"up", "-d"}, true), ComposeArgv({"down"}, true)}));
  EXPECT_EQ(calls_.back(), "DELETE /engagements/e-1");
  EXPECT_FALSE(fs::exists(StateDirectory()));
  EXPECT_CONTAINS(err_.str(), "docker-compose up failed (exit code 1); undoing what was made");
}

TEST_F(ComposeTest, ASecondUpIsRefused) {
  ComposeStartsTheContainers();
  ASSERT_EQ(Run(Compose({"up", "-d"})), kExitOk) << err_.str();
  EXPECT_EQ(Run(Compose({"up", "-d"})), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "the project shop is up already");
}

TEST_F(ComposeTest, AForegroundUpEndsTheEngagementsWithDockerCompose) {
  docker_.foreground_script = [this](FakeDocker&, int call) {
    if (call == 1) ComposeStartsTheContainers();
    if (call < 3) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 130};
  };
  EXPECT_EQ(Run(Compose({"up"})), 130) << err_.str();
  EXPECT_EQ(docker_.run_foreground, std::vector<Args>{ComposeArgv({"up"}, true)});
  EXPECT_EQ(calls_, (Args{"GET /workloads", "POST /engagements", "POST /engagements/e-1/handler",
                          "DELETE /engagements/e-1"}));
  EXPECT_CONTAINS(err_.str(), "telepresence compose down removes the containers and volumes");
  EXPECT_TRUE(fs::exists(StateDirectory() / "state.json"));
}

TEST_F(ComposeTest, AnXTeleMistakeNamesTheFileAndTheKey) {
  WriteFile(File(), "services:\n  a:\n    x-tele: {type: replace, port: 80}\n");
  EXPECT_EQ(Run(Compose({"up", "-d"})), kExitFailure);
  EXPECT_CONTAINS(err_.str(), File().string() + ": service a: x-tele: unknown key port");
  EXPECT_TRUE(calls_.empty());
}

TEST_F(ComposeTest, QuitTakesTheContextsProjectsDownFirst) {
  ComposeStartsTheContainers();
  ASSERT_EQ(Run(Compose({"up", "-d"})), kExitOk) << err_.str();
  calls_.clear();
  CliIo io = Io();
  CliServices services = Services();
  EXPECT_TRUE(TakeDownComposeProjects("other", io, services));  // another context's quit
  EXPECT_TRUE(calls_.empty());
  EXPECT_TRUE(fs::exists(StateDirectory()));
  EXPECT_TRUE(TakeDownComposeProjects("default", io, services)) << err_.str();
  EXPECT_EQ(docker_.run_attached.back(), ComposeArgv({"down"}, true));
  EXPECT_EQ(calls_, (Args{"GET /engagements", "DELETE /engagements/e-1"}));
  EXPECT_FALSE(fs::exists(StateDirectory()));
  EXPECT_CONTAINS(err_.str(), "Taking down the compose project shop");
}

}  // namespace
}  // namespace tp::cli
