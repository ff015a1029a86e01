#include "cli/app.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

#include "cli/test_temp_dir.h"

namespace tp::cli {
namespace {

using testing::FixedEnvironment;
using testing::TempDir;
using testing::WriteFile;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

class AppTest : public ::testing::Test {
 protected:
  int Run(const std::vector<std::string>& args) {
    out_.str("");
    err_.str("");
    CliIo io{out_, err_, FixedEnvironment({{"XDG_CONFIG_HOME", config_home_.path().string()}})};
    return RunTelepresence(args, io);
  }
  void WriteDefaultContext() {
    WriteFile(config_home_.path() / "telepresence-docker/contexts/default.json",
              R"({"name":"default","manager":"127.0.0.1:40123","secret_file":"/tmp/s",)"
              R"("cluster_network":"tp-demo","cluster_subnets":["10.213.0.0/24"]})");
  }

  TempDir config_home_;
  std::ostringstream out_;
  std::ostringstream err_;
};

TEST_F(AppTest, HelpExitsZeroOnEveryCommand) {
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--help"},
                                             {"help"},
                                             {"connect", "--help"},
                                             {"status", "-h"},
                                             {"quit", "--help"},
                                             {"curl", "--help"},
                                             {"help", "curl"}}) {
    EXPECT_EQ(Run(args), kExitOk) << args.front();
    EXPECT_CONTAINS(out_.str(), "Usage: telepresence");
    EXPECT_EQ(err_.str(), "");
  }
}

TEST_F(AppTest, ArgumentErrorsExitTwoWithTheSentence) {
  EXPECT_EQ(Run({"connect", "--docker", "--x"}), kExitUsage);
  EXPECT_EQ(err_.str(),
            "telepresence: unknown flag --x for connect; see telepresence connect --help\n");
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(Run({}), kExitUsage);
  EXPECT_CONTAINS(err_.str(), "no command given");
}

TEST_F(AppTest, ConnectShowsTheDaemonCommandAndSaysNotImplemented) {
  WriteDefaultContext();
  EXPECT_EQ(Run({"connect", "--docker", "--manager", "127.0.0.1:9"}), kExitNotImplemented);
  EXPECT_CONTAINS(out_.str(), "docker run --rm -d --pull never --name tp-default-cn");
  EXPECT_CONTAINS(out_.str(), "--manager 127.0.0.1:9 ");
  EXPECT_CONTAINS(err_.str(), "not implemented yet");
  EXPECT_CONTAINS(err_.str(), "started, stopped and changed nothing");
}

TEST_F(AppTest, ConnectToUnknownContextFailsListingTheContexts) {
  WriteDefaultContext();
  EXPECT_EQ(Run({"--docker", "connect", "--context", "prod"}), kExitFailure);
  EXPECT_CONTAINS(err_.str(), "telepresence connect: unknown context 'prod'");
  EXPECT_CONTAINS(err_.str(), "available contexts: default");
}

TEST_F(AppTest, StatusQuitAndCurlSayNotImplemented) {
  EXPECT_EQ(Run({"status", "--output", "json"}), kExitNotImplemented);
  EXPECT_CONTAINS(out_.str(), "tp-default-cn");
  EXPECT_CONTAINS(out_.str(), "GET /status");
  EXPECT_CONTAINS(err_.str(), "not implemented yet");
  EXPECT_EQ(Run({"quit", "--context", "dev"}), kExitNotImplemented);
  EXPECT_CONTAINS(out_.str(), "tp-dev-cn");
  EXPECT_CONTAINS(out_.str(), "POST /quit");
  EXPECT_EQ(Run({"curl", "-s", "http://echo.default:8080"}), kExitNotImplemented);
  EXPECT_CONTAINS(out_.str(),
                  "docker run --rm --pull never --network container:tp-default-cn tp-curl:latest "
                  "curl -s http://echo.default:8080");
}

}  // namespace
}  // namespace tp::cli
