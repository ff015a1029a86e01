// Running other programs (docker, scripts/build-images.sh) from an argv vector, never through a
// shell. The program is looked up in PATH, inherits the environment, and starts with default
// signal handlers and an empty signal mask. Every child is waited
// for: ChildProcess kills (SIGKILL) and reaps a child that is still running when it is destroyed.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

using Argv = std::vector<std::string>;

// A child's exit code as a shell reports it: its exit status, or 128 + the signal that killed it.
using ExitCode = int;

// Where a spawned child's standard streams go.
enum class ChildStreams {
  kCaptured,        // stdin /dev/null; stdout and stderr to pipes the parent reads
  kInherited,       // this process's stdin, stdout and stderr
  kStdoutToStderr,  // stdin /dev/null; stdout and stderr both to this process's stderr
};

// One running child process. Move-only; the destructor kills and reaps it unless it was waited
// for. Not thread-safe.
class ChildProcess {
 public:
  // Starts argv[0] (searched in PATH). For kCaptured, StdoutFd()/StderrFd() are the read ends.
  static Result<ChildProcess> Spawn(const Argv& argv, ChildStreams streams);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess();

  // Blocks until the child ends.
  ExitCode Wait();
  // The exit code when the child has ended, else nullopt (does not block).
  std::optional<ExitCode> TryWait();
  // SIGKILL, then reaps it; its exit code (137 unless it had ended by itself).
  ExitCode KillAndWait();

  pid_t pid() const { return pid_; }  // -1 once reaped
  int StdoutFd() const { return stdout_fd_; }
  int StderrFd() const { return stderr_fd_; }

 private:
  ChildProcess(pid_t pid, int stdout_fd, int stderr_fd)
      : pid_(pid), stdout_fd_(stdout_fd), stderr_fd_(stderr_fd) {}
  void CloseFds();

  pid_t pid_ = -1;  // -1 once reaped
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
};

struct CapturedOutput {
  ExitCode exit_code = 0;
  std::string out;
  std::string err;
};

// Runs argv with stdout and stderr captured and stdin from /dev/null. Errors: the program
// cannot be started, or it outlived `timeout` (it is then killed).
Result<CapturedOutput> RunCaptured(const Argv& argv, std::chrono::milliseconds timeout);

// Runs argv in the foreground with the given streams (kInherited or kStdoutToStderr) and waits
// for it. Meanwhile this process ignores SIGINT and SIGQUIT (the child, in the same process
// group, gets Ctrl-C and decides; its exit code then tells). Error: the program cannot be
// started.
Result<ExitCode> RunAttached(const Argv& argv, ChildStreams streams);

// Starts argv[0] (a path, not looked up in PATH) with exactly `environment`, in a session of its
// own so that it outlives this command: stdin /dev/null, stdout and stderr appended to `log`,
// no other file of this process open, every signal at its default. Returns its pid; error: it
// cannot be started.
Result<pid_t> SpawnDetached(const Argv& argv, const std::vector<std::string>& environment,
                            const std::string& log);

}  // namespace tp::cli
