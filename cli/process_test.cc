#include "cli/process.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cerrno>
#include <csignal>

#include "cli/docker_client.h"

namespace tp::cli {
namespace {

using namespace std::chrono_literals;

TEST(RunCapturedTest, CapturesStdoutStderrAndTheExitCode) {
  Result<CapturedOutput> output = RunCaptured({"ls", "/", "/no-such-entry"}, 5s);
  ASSERT_TRUE(output.ok()) << output.error().message;
  EXPECT_NE(output.value().exit_code, 0);
  EXPECT_NE(output.value().out.find("proc"), std::string::npos);
  EXPECT_NE(output.value().err.find("no-such-entry"), std::string::npos);
}

TEST(RunCapturedTest, ArgumentsAreNotInterpretedByAShell) {
  Result<CapturedOutput> output = RunCaptured({"echo", "$(id)", "; x", "*"}, 5s);
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output.value().exit_code, 0);
  EXPECT_EQ(output.value().out, "$(id) ; x *\n");
}

TEST(RunCapturedTest, StdinIsEmpty) {
  Result<CapturedOutput> output = RunCaptured({"cat"}, 5s);
  ASSERT_TRUE(output.ok());
  EXPECT_EQ(output.value().exit_code, 0);
  EXPECT_EQ(output.value().out, "");
}

TEST(RunCapturedTest, ALongLivedChildIsKilledAtTheTimeout) {
  auto start = std::chrono::steady_clock::now();
  Result<CapturedOutput> output = RunCaptured({"sleep", "30"}, 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  ASSERT_FALSE(output.ok());
  EXPECT_NE(output.error().message.find("sleep did not finish within 1 s"), std::string::npos)
      << output.error().message;
}

TEST(RunCapturedTest, AMissingProgramIsAnError) {
  Result<CapturedOutput> output = RunCaptured({"no-such-program-tp"}, 5s);
  ASSERT_FALSE(output.ok());
  EXPECT_NE(output.error().message.find("cannot run no-such-program-tp"), std::string::npos);
  EXPECT_NE(output.error().message.find("not in PATH"), std::string::npos);
}

TEST(RunAttachedTest, ReturnsTheExitCode) {
  Result<ExitCode> code = RunAttached({"false"}, ChildStreams::kStdoutToStderr);
  ASSERT_TRUE(code.ok());
  EXPECT_EQ(code.value(), 1);
}

TEST(ChildProcessTest, AKilledChildReportsTheSignal) {
  Result<ChildProcess> child = ChildProcess::Spawn({"sleep", "30"}, ChildStreams::kCaptured);
  ASSERT_TRUE(child.ok());
  EXPECT_FALSE(child.value().TryWait());
  EXPECT_EQ(child.value().KillAndWait(), 128 + SIGKILL);
  EXPECT_EQ(child.value().pid(), -1);
}

TEST(ChildProcessTest, DestroyingARunningChildKillsAndReapsIt) {
  pid_t pid = -1;
  {
    Result<ChildProcess> child = ChildProcess::Spawn({"sleep", "30"}, ChildStreams::kInherited);
    ASSERT_TRUE(child.ok());
    pid = child.value().pid();
    ASSERT_GT(pid, 0);
  }
  errno = 0;
  EXPECT_EQ(::waitpid(pid, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);  // already reaped
}

TEST(DockerFailureMessageTest, QuotesDockerAndSaysHowToStartIt) {
  EXPECT_EQ(DockerFailureMessage({"docker", "ps", "-a", "--filter", "name=^x$"}, 1,
                                 "Cannot connect to the Docker daemon at unix:///var/run/"
                                 "docker.sock. Is the docker daemon running?\n"),
            "docker ps -a --filter ... failed (exit 1): Cannot connect to the Docker daemon at "
            "unix:///var/run/docker.sock. Is the docker daemon running?; start dockerd "
            "(scripts/ensure-dockerd.sh does) and try again");
  EXPECT_EQ(DockerFailureMessage({"docker", "rm", "-f", "x"}, 1, "Error: No such container: x\n"),
            "docker rm -f x failed (exit 1): Error: No such container: x");
}

}  // namespace
}  // namespace tp::cli
