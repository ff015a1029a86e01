// replace/intercept/list/leave run in-process against the fake Docker and a scripted daemon.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "api/engagement.h"
#include "cli/app.h"
#include "cli/test_fakes.h"
#include "cli/test_temp_dir.h"
#include "cli/ui_driver.h"

namespace tp::cli {
namespace {

using nlohmann::json;
using testing::FakeClock;
using testing::FakeDaemonControl;
using testing::FakeDocker;
using testing::FakeImageBuilder;
using testing::FakePluginInstaller;
using testing::FixedEnvironment;
using testing::StatusBody;
using testing::TempDir;
using Event = ForegroundRun::Event;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

struct DaemonCall {
  std::string method;
  std::string path;
  json body;
};

class EngageTest : public ::testing::Test {
 protected:
  EngageTest() {
    docker_.containers["tp-default-cn"] = {"running", "tp.daemon=default"};
    docker_.networks["tp-default"] = {.name = "tp-default",
                                      .driver = "teleroute:latest",
                                      .subnets = {"10.200.0.0/24"},
                                      .options = {{"daemon", "10.200.0.2"}},
                                      .labels = {{"telepresence.context", "default"}},
                                      .containers = {{"cn-id", "tp-default-cn", "10.200.0.2/24"}}};
    docker_.networks["bridge"].containers = {{"cn-id", "tp-default-cn", "172.17.0.2/16"}};
    docker_.networks["bridge"].gateways = {"172.17.0.1"};
    // The handler container gets its address on the second wait, exits on the third.
    docker_.foreground_script = [](FakeDocker& docker, int call) {
      if (call == 1) {
        docker.networks["tp-default"].containers.push_back(
            {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
      }
      if (call < 2) return ForegroundRun::Outcome{Event::kRunning, 0};
      return ForegroundRun::Outcome{Event::kExited, 3};
    };
  }

  Result<json> Answer(std::string_view method, std::string_view path, const json& body) {
    calls_.push_back({std::string(method), std::string(path), body});
    if (path == "/workloads") {
      if (workloads_error_) return CliError{*workloads_error_};
      json listed = json::parse(R"({"workloads":[{"workload":"echo","container":"echo",
          "ports":[8080,9090],"mounts":["/srv/echo-data"],"engagement":null}]})");
      if (engaged_ && !manager_restarted_) {
        listed["workloads"][0]["engagement"] = {
            {"id", "e-1"}, {"mode", "replace"}, {"ports", {8080}}, {"active", true}};
      }
      return listed;
    }
    if (method == "POST" && path == "/engagements") {
      if (engage_error_) return CliError{*engage_error_};
      engaged_ = true;
      return json{{"id", "e-1"},
                  {"workload", "echo"},
                  {"container", "echo"},
                  {"ports", body["ports"]},
                  {"sftp_port", 40022},
                  {"env", {{"ECHO_MESSAGE", "hello"}}},
                  {"mounts", {"/srv/echo-data"}}};
    }
    if (path == "/engagements") {
      return json{{"engagements", {{{"id", "e-1"}, {"name", "echo"}, {"mode", "replace"}}}}};
    }
    return json::object();
  }

  EnvironmentLookup Environment() const {
    return FixedEnvironment({{"TMPDIR", tmp_.path().string()}});
  }

  int Run(const std::vector<std::string>& args) {
    CliIo io{out_, err_, Environment()};
    CliServices services = Services();
    return RunTelepresence(args, io, services);
  }

  CliServices Services() {
    CliServices services = ServicesWithConnectedDaemon(
        docker_, image_builder_, plugin_installer_, clock_,
        [this](std::string_view method, std::string_view path, const json& body) {
          return Answer(method, path, body);
        });
    services.engagement_guard =
        [this](const GuardedEngagement& engagement) -> Result<std::unique_ptr<EngagementGuard>> {
      guarded_.push_back(engagement);
      return std::unique_ptr<EngagementGuard>(std::make_unique<RecordingGuard>(this));
    };
    return services;
  }

  std::vector<std::string> Paths() const {
    std::vector<std::string> paths;
    for (const DaemonCall& call : calls_) paths.push_back(call.method + " " + call.path);
    return paths;
  }

  bool TmpIsEmpty() const { return std::filesystem::is_empty(tmp_.path()); }

  TempDir tmp_;
  std::ostringstream out_;
  std::ostringstream err_;
  FakeDocker docker_;
  FakeClock clock_;
  FakeImageBuilder image_builder_;
  FakePluginInstaller plugin_installer_;
  std::vector<DaemonCall> calls_;
  std::optional<std::string> engage_error_;
  std::optional<std::string> workloads_error_;  // GET /workloads fails (the manager is away)
  bool engaged_ = false;                        // POST /engagements granted e-1
  bool manager_restarted_ = false;  // the manager lost e-1 (its list no longer shows it)
  std::vector<GuardedEngagement> guarded_;
  // The daemon calls made when each guard was released.
  std::vector<size_t> released_after_calls_;

  struct RecordingGuard : EngagementGuard {
    explicit RecordingGuard(EngageTest* test) : test(test) {}
    ~RecordingGuard() override { test->released_after_calls_.push_back(test->calls_.size()); }
    EngageTest* test;
  };
};

TEST_F(EngageTest, AGuardHoldsWhatAKilledCommandLeavesAndIsReleasedAfterTheCleanup) {
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 3) << err_.str();
  ASSERT_EQ(guarded_.size(), 1u);
  EXPECT_EQ(guarded_[0].engagement_id, "e-1");
  EXPECT_EQ(guarded_[0].handler, "intercept-echo-8080");
  EXPECT_EQ(guarded_[0].daemon.port, docker_.published_port);
  EXPECT_EQ(guarded_[0].daemon.token, docker_.control_token);
  EXPECT_EQ(guarded_[0].volumes.size(), 1u);
  EXPECT_FALSE(guarded_[0].env_file.empty());
  EXPECT_EQ(released_after_calls_, std::vector<size_t>{calls_.size()});
  EXPECT_EQ(calls_.back().method + " " + calls_.back().path, "DELETE /engagements/e-1");
}

TEST_F(EngageTest, TheGuardFollowsTheUsersName) {
  EXPECT_EQ(Run({"intercept", "echo", "--docker-run", "--", "--name", "mine", "busybox"}), 3);
  ASSERT_EQ(guarded_.size(), 1u);
  EXPECT_EQ(guarded_[0].handler, "mine");
}

TEST_F(EngageTest, TheHandlerStopsWhenTheDaemonContainerGoes) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
    }
    if (call == 3) docker.RemoveContainer("tp-default-cn");  // docker rm -f, or quit
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 137};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_CONTAINS(err_.str(), "the daemon container tp-default-cn is gone");
  EXPECT_EQ(docker_.removed.back(), "tp-echo-0");
}

TEST_F(EngageTest, TheDaemonGoneNamesTheCommandThatEngagesAgain) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
    }
    if (call == 3) docker.RemoveContainer("tp-default-cn");
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 137};
  };
  EXPECT_EQ(Run({"intercept", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "to engage again, run `telepresence intercept echo ...` again");
}

// A restarted traffic-agent or traffic-manager ends the engagement without telling the daemon
// (found by test/docker/chaos.sh): the handler must not go on unreached, with dead volumes.
TEST_F(EngageTest, TheHandlerStopsWhenTheManagerNoLongerHasTheEngagement) {
  docker_.foreground_script = [this](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
    }
    if (call == 4) manager_restarted_ = true;
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 143};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_CONTAINS(err_.str(), "the engagement e-1 of echo ended");
  EXPECT_CONTAINS(err_.str(), "to engage again, run `telepresence replace echo ...` again");
  // Cleaned up as after any ending: the engagement left, the volume removed.
  EXPECT_EQ(calls_.back().method + " " + calls_.back().path, "DELETE /engagements/e-1");
  EXPECT_EQ(docker_.removed.back(), "tp-echo-0");
}

// A Docker engine that stops (or restarts) stops the handler and the daemon together.
TEST_F(EngageTest, AHandlerEndingWithTheDaemonNamesTheCommandThatEngagesAgain) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
    }
    if (call < 2) return ForegroundRun::Outcome{Event::kRunning, 0};
    docker.RemoveContainer("tp-default-cn");
    return ForegroundRun::Outcome{Event::kExited, 125};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 125);
  EXPECT_CONTAINS(err_.str(), "is not running (did the Docker engine stop?)");
  EXPECT_CONTAINS(err_.str(), "to engage again, run `telepresence replace echo ...` again");
}

TEST_F(EngageTest, AHandlerThatExitsByItselfNamesNoCommand) {
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 3);
  EXPECT_EQ(err_.str().find("to engage again"), std::string::npos) << err_.str();
}

// A dockerd restart under an engagement leaves its volumes (their clean-up found no engine);
// dockerd would hand the old volume, with its dead server, to a create of the same name.
TEST_F(EngageTest, ALeftoverVolumeOfALostEngagementIsRemovedBeforeTheNewOneIsCreated) {
  docker_.labelled_volumes["telepresence.engagement"] = {"tp-echo-0", "tp-other-0"};
  size_t removed_before_create = 0;
  docker_.on_volume_create = [&] { removed_before_create = docker_.removed.size(); };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 3) << err_.str();
  EXPECT_EQ(removed_before_create, 1u);
  EXPECT_EQ(docker_.removed, (std::vector<std::string>{"tp-echo-0", "tp-echo-0"}));
}

TEST_F(EngageTest, AManagerThatCannotAnswerForAWhileDoesNotStopTheHandler) {
  docker_.foreground_script = [this](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
      workloads_error_ = "the traffic-manager is not reachable";
    }
    if (call < 5) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 3};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 3) << err_.str();
  EXPECT_TRUE(docker_.stopped.empty());
}

TEST_F(EngageTest, TheHandlersAddressComesFromAWatchStartedBeforeDockerRun) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    // The watch exists before docker run starts the container.
    EXPECT_EQ(docker.address_watches.size(), 1u);
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back({"h-id", "mine", "10.200.0.131/24"});
    }
    if (call < 2) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 0};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "--name", "mine", "busybox"}), 0)
      << err_.str();
  EXPECT_EQ(docker_.address_watches,
            (std::vector<std::pair<std::string, std::string>>{{"tp-default", "mine"}}));
  ASSERT_EQ(calls_.size(), 4u);
  EXPECT_EQ(calls_[2].body.at("address"), "10.200.0.131");
}

TEST_F(EngageTest, BrokenDockerEventsStopTheHandlerAndSaySo) {
  docker_.address_watch_failure = "the engine went away";
  docker_.foreground_script = [](FakeDocker& docker, int) {
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 143};
  };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_CONTAINS(err_.str(), "cannot follow Docker's events");
  EXPECT_CONTAINS(err_.str(), "the engine went away");
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
}

TEST_F(EngageTest, TheHandlerCarriesTheContextLabelSoThatQuitRemovesIt) {
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 3);
  ASSERT_EQ(docker_.run_foreground.size(), 1u);
  const Argv& argv = docker_.run_foreground[0];
  auto label = std::find(argv.begin(), argv.end(), "tp.daemon=default");
  ASSERT_NE(label, argv.end());
  EXPECT_EQ(*(label - 1), "--label");
}

TEST_F(EngageTest, ReplaceRunsTheHandlerSetsItAndCleansUpAfter) {
  TempDir user_dir;
  const std::string user_env = (user_dir.path() / "echo.env").string();
  EXPECT_EQ(Run({"replace", "echo", "--env-file", user_env, "--docker-run", "--", "-e", "X=1",
                 "busybox", "env"}),
            3)
      << err_.str();
  EXPECT_EQ(Paths(),
            (std::vector<std::string>{"GET /workloads", "POST /engagements",
                                      "POST /engagements/e-1/handler", "DELETE /engagements/e-1"}));
  EXPECT_EQ(calls_[1].body, (json{{"workload", "echo"},
                                  {"mode", "replace"},
                                  {"ports", {8080, 9090}},
                                  {"name", "echo"},
                                  {"sftp_client", "172.17.0.1"}}));
  EXPECT_EQ(calls_[2].body,
            (json{{"address", "10.200.0.130"}, {"ports", {{"8080", 8080}, {"9090", 9090}}}}));
  ASSERT_EQ(docker_.volume_creates.size(), 1u);
  EXPECT_EQ(docker_.volume_creates[0].driver_options.at("host"), "172.17.0.2");
  EXPECT_EQ(docker_.volume_creates[0].name, "tp-echo-0");
  ASSERT_EQ(docker_.run_foreground.size(), 1u);
  const Argv& argv = docker_.run_foreground[0];
  EXPECT_EQ(FakeDocker::ValueAfter(argv, "--name"), "intercept-echo-8080");
  EXPECT_EQ(FakeDocker::ValueAfter(argv, "--network"), "tp-default");
  EXPECT_EQ(FakeDocker::ValueAfter(argv, "--dns"), "10.200.0.2");
  EXPECT_EQ(FakeDocker::ValueAfter(argv, "-v"), "tp-echo-0:/srv/echo-data");
  EXPECT_NE(std::find(argv.begin(), argv.end(), "telepresence.engagement=e-1"), argv.end());
  EXPECT_EQ(argv[argv.size() - 2], "busybox");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-echo-0"});
  EXPECT_TRUE(TmpIsEmpty()) << "the private env file is removed";
  std::ifstream written(user_env);
  std::string line;
  std::getline(written, line);
  EXPECT_EQ(line, "ECHO_MESSAGE=hello");
  EXPECT_EQ(std::filesystem::status(user_env).permissions(),
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write)
      << "the workload's secrets are the user's only";
  EXPECT_CONTAINS(err_.str(), "Engaged: the handler intercept-echo-8080 (10.200.0.130)");
}

// --port LOCAL:CONTAINER: LOCAL chooses the workload's port (its first when it has no port LOCAL),
// the handler listens on CONTAINER in its container; nothing is published on the host.
TEST_F(EngageTest, PortLocalColonContainerEngagesLocalAndSendsItToTheHandlersContainerPort) {
  EXPECT_EQ(Run({"intercept", "echo", "--port", "8080:8081", "--docker-run", "--", "busybox"}), 3)
      << err_.str();
  ASSERT_EQ(calls_.size(), 4u);
  EXPECT_EQ(calls_[1].body["ports"], json({8080}));
  EXPECT_EQ(calls_[2].body, (json{{"address", "10.200.0.130"}, {"ports", {{"8080", 8081}}}}));
  ASSERT_EQ(docker_.run_foreground.size(), 1u);
  const Argv& argv = docker_.run_foreground[0];
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "-p"), argv.end()) << "no host port";
  EXPECT_EQ(std::find(argv.begin(), argv.end(), "--publish"), argv.end()) << "no host port";
}

TEST_F(EngageTest, ReplacePortMovesOnePortTheOthersKeepTheirNumber) {
  EXPECT_EQ(Run({"replace", "echo", "--port", "9090:9191", "--docker-run", "--", "busybox"}), 3)
      << err_.str();
  ASSERT_EQ(calls_.size(), 4u);
  EXPECT_EQ(calls_[1].body["ports"], json({8080, 9090}));
  EXPECT_EQ(calls_[2].body,
            (json{{"address", "10.200.0.130"}, {"ports", {{"8080", 8080}, {"9090", 9191}}}}));
}

TEST_F(EngageTest, DockerRunFailingStillEndsTheEngagementAndRemovesTheVolumes) {
  docker_.foreground_script = [](FakeDocker&, int) {
    return ForegroundRun::Outcome{Event::kExited, 125};
  };
  docker_.volume_busy_for["tp-echo-0"] = 2;  // released just after the container
  EXPECT_EQ(
      Run({"intercept", "echo", "--port", "9090:8081", "--docker-run", "--", "--bad", "busybox"}),
      125);
  EXPECT_EQ(Paths(), (std::vector<std::string>{"GET /workloads", "POST /engagements",
                                               "DELETE /engagements/e-1"}));
  EXPECT_EQ(calls_[1].body["ports"], json({9090}));
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-echo-0"});
  EXPECT_TRUE(TmpIsEmpty());
}

TEST_F(EngageTest, InterruptStopsTheContainerThenCleansUp) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    if (call == 0) return ForegroundRun::Outcome{Event::kInterrupted, 0};
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 130};
  };
  EXPECT_EQ(Run({"replace", "echo", "--mount=false", "--docker-run", "--", "busybox"}), 130);
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_TRUE(docker_.volume_creates.empty());
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
}

// A Ctrl-C while the volumes are made (SIGINT to this process; it waits, blocked, to be taken):
// no handler runs, and the engagement and the volume made so far are removed.
TEST_F(EngageTest, InterruptBeforeTheHandlerRunsEndsTheEngagementAndRemovesTheVolumes) {
  docker_.on_volume_create = [] { raise(SIGINT); };
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), 130);
  EXPECT_CONTAINS(err_.str(), "interrupted before the handler container started");
  EXPECT_TRUE(docker_.run_foreground.empty());
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
  EXPECT_EQ(docker_.removed, std::vector<std::string>{"tp-echo-0"});
  EXPECT_TRUE(TmpIsEmpty()) << "the private env file is removed";
  sigset_t pending;
  sigpending(&pending);
  EXPECT_FALSE(sigismember(&pending, SIGINT)) << "the signal was taken, not left pending";
}

TEST_F(EngageTest, NoHandlerAddressWithinTheDeadlineStopsIt) {
  docker_.foreground_script = [this](FakeDocker& docker, int) {
    clock_.Advance(std::chrono::seconds(1));
    if (docker.stopped.empty()) return ForegroundRun::Outcome{Event::kRunning, 0};
    return ForegroundRun::Outcome{Event::kExited, 0};
  };
  EXPECT_EQ(Run({"ingest", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "got no address on tp-default within 30 s");
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
}

TEST_F(EngageTest, TheDaemonsRefusalIsPrintedAsItComes) {
  engage_error_ = "the workload echo is already engaged by mine (replace)";
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_EQ(err_.str(),
            "telepresence replace: the workload echo is already engaged by mine (replace)\n");
  EXPECT_TRUE(docker_.run_foreground.empty());
  EXPECT_TRUE(docker_.volume_creates.empty());
}

TEST_F(EngageTest, DockerBuildRunsTheBuiltImageWithDebugFlags) {
  EXPECT_EQ(Run({"replace", "echo", "--docker-debug", "/src", "--", "IMAGE"}), 3) << err_.str();
  ASSERT_EQ(docker_.builds.size(), 1u);
  EXPECT_EQ(docker_.builds[0], (Argv{"env", "DOCKER_BUILDKIT=0", "docker", "build", "-q", "/src"}));
  const Argv& argv = docker_.run_foreground.at(0);
  EXPECT_EQ(argv.back(), "sha256:built");
  EXPECT_EQ(FakeDocker::ValueAfter(argv, "--cap-add"), "SYS_PTRACE");
}

TEST_F(EngageTest, WithoutADaemonItConnectsFirst) {
  docker_.containers.clear();
  EXPECT_EQ(Run({"replace", "echo", "--docker-run", "--", "busybox"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "No daemon runs for context default; connecting with --docker");
  EXPECT_CONTAINS(err_.str(), "could not connect (see above)");
}

TEST_F(EngageTest, ListAndLeave) {
  EXPECT_EQ(Run({"list"}), kExitOk);
  EXPECT_EQ(out_.str(),
            "WORKLOAD  PORTS      ENGAGEMENT\n"
            "echo      8080,9090  -\n");
  out_.str("");
  docker_.containers["intercept-echo-8080"] = {"running", "telepresence.engagement=e-1"};
  EXPECT_EQ(Run({"leave", "echo"}), kExitOk) << err_.str();
  EXPECT_EQ(out_.str(), "Left echo (e-1); removed intercept-echo-8080\n");
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
  EXPECT_EQ(Run({"leave", "other"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "no engagement named other; the engagements are echo");
}

TEST_F(EngageTest, ListAsJsonIsTheWorkloadListCodec) {
  EXPECT_EQ(Run({"list", "--output", "json"}), kExitOk) << err_.str();
  std::string error;
  std::optional<std::vector<api::WorkloadInfo>> workloads =
      api::WorkloadListFromJson(json::parse(out_.str()), error);
  ASSERT_TRUE(workloads) << error << ": " << out_.str();
  ASSERT_EQ(workloads->size(), 1u);
  EXPECT_EQ(workloads->at(0).workload, "echo");
  EXPECT_EQ(workloads->at(0).ports, (std::vector<uint16_t>{8080, 9090}));
  EXPECT_FALSE(workloads->at(0).engagement);
}

// `telepresence ui`'s engagements are the same command, run on a thread with a stop flag.
TEST_F(EngageTest, ThePageEngagesWithTheCommandLinesCodeAndLeaves) {
  docker_.foreground_script = [](FakeDocker& docker, int call) {
    if (call == 1) {
      docker.networks["tp-default"].containers.push_back(
          {"h-id", "intercept-echo-8080", "10.200.0.130/24"});
    }
    // Runs until docker stop stopped it.
    if (!docker.stopped.empty()) return ForegroundRun::Outcome{Event::kExited, 0};
    return ForegroundRun::Outcome{Event::kRunning, 0};
  };
  webui::EventHub events;
  std::shared_ptr<webui::EventSubscription> subscription = events.Subscribe();
  CliServices services = Services();
  CliUiDriver driver(Environment(), services, events, "default");
  const webui::UiReply engaged = driver.Engage({.context = "default",
                                                .workload = "echo",
                                                .mode = "replace",
                                                .image = "my-echo:dev",
                                                .docker_args = {"-e", "X=1"}});
  ASSERT_EQ(engaged.status, 201) << engaged.body.dump();
  EXPECT_EQ(engaged.body["state"], "active");
  EXPECT_EQ(engaged.body["id"], "e-1");
  EXPECT_EQ(engaged.body["container"], "intercept-echo-8080");
  EXPECT_EQ(engaged.body["env"]["ECHO_MESSAGE"], "hello");
  EXPECT_EQ(engaged.body["volumes"][0]["path"], "/srv/echo-data");
  EXPECT_EQ(driver.Engagements("default").body["engagements"].size(), 1u);
  EXPECT_EQ(driver.Engagements("other").body["engagements"].size(), 0u);

  const webui::UiReply left = driver.Leave("default", "e-1");
  ASSERT_EQ(left.status, 200) << left.body.dump();
  EXPECT_EQ(left.body["state"], "ended");
  EXPECT_EQ(left.body["message"], "left from the page");
  EXPECT_EQ(docker_.stopped, std::vector<std::string>{"intercept-echo-8080"});
  EXPECT_EQ(Paths().back(), "DELETE /engagements/e-1");
  ASSERT_EQ(docker_.run_foreground.size(), 1u);
  EXPECT_EQ(FakeDocker::ValueAfter(docker_.run_foreground[0], "-e"), "X=1");
  bool engaged_line = false;
  while (std::optional<webui::ServerEvent> event =
             subscription->Next(std::chrono::milliseconds(0))) {
    engaged_line = engaged_line || (event->type == "progress" &&
                                    event->data.find("Engaged: the handler") != std::string::npos);
  }
  EXPECT_TRUE(engaged_line);
}

TEST_F(EngageTest, ThePageGetsTheCommandLinesRefusalsAsSentences) {
  webui::EventHub events;
  CliServices services = Services();
  CliUiDriver driver(Environment(), services, events, "default");
  const webui::UiReply bad_port = driver.Engage(
      {.workload = "echo", .mode = "replace", .ports = {"99999"}, .image = "my-echo:dev"});
  EXPECT_EQ(bad_port.status, 400);
  EXPECT_CONTAINS(bad_port.body.dump(), "99999");
  EXPECT_EQ(driver.Leave("default", "e-9").status, 404);
  EXPECT_EQ(driver.StopContainer("0123456789ab").status, 404);
  EXPECT_EQ(driver.Status("../etc").status, 400);
  docker_.fail_everything = "Cannot connect to the Docker daemon";
  const webui::UiReply no_docker = driver.Status("default");
  EXPECT_EQ(no_docker.status, 200);
  EXPECT_EQ(no_docker.body["connected"], false);
  EXPECT_CONTAINS(no_docker.body["error"].get<std::string>(),
                  "Cannot connect to the Docker daemon");
  docker_.fail_everything.reset();
  docker_.containers.clear();
  const webui::UiReply workloads = driver.Workloads("default");
  EXPECT_EQ(workloads.status, 409);
  EXPECT_CONTAINS(workloads.body.dump(), "connect");
  EXPECT_TRUE(docker_.run_foreground.empty());
}

}  // namespace
}  // namespace tp::cli
