#include "cli/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <utility>

#include "net/unique_fd.h"

extern char** environ;

namespace tp::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kExitPollInterval{5};

// posix_spawn_file_actions_t, destroyed with its owner.
class SpawnFileActions {
 public:
  SpawnFileActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnFileActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;

  void StdinFromDevNull() {
    posix_spawn_file_actions_addopen(&actions_, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  void Duplicate(int from, int to) { posix_spawn_file_actions_adddup2(&actions_, from, to); }
  // stdout and stderr appended to `log` (created 0600), and no other file of this process open.
  void OutputToLogOnly(const std::string& log) {
    posix_spawn_file_actions_addopen(&actions_, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0600);
    posix_spawn_file_actions_adddup2(&actions_, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addclosefrom_np(&actions_, STDERR_FILENO + 1);
  }
  const posix_spawn_file_actions_t* Get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// posix_spawnattr_t that gives the child default signal handlers and an empty signal mask,
// whatever this process ignores or blocks at the time.
class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attributes_);
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int signal : {SIGINT, SIGQUIT, SIGTERM, SIGHUP, SIGPIPE}) sigaddset(&defaults, signal);
    posix_spawnattr_setsigdefault(&attributes_, &defaults);
    sigset_t empty;
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attributes_, &empty);
    posix_spawnattr_setflags(&attributes_, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attributes_); }
  // Also: every signal at its default (not only the terminal's), and a session of its own.
  void Detached() {
    sigset_t all;
    sigfillset(&all);
    posix_spawnattr_setsigdefault(&attributes_, &all);
    posix_spawnattr_setflags(&attributes_,
                             POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSID);
  }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;

  const posix_spawnattr_t* Get() const { return &attributes_; }

 private:
  posix_spawnattr_t attributes_;
};

// While it lives, this process ignores the terminal's SIGINT and SIGQUIT (as system() does): a
// foreground child gets them and decides, and this process stays to reap it and return its exit
// code. Restores the previous handlers.
class IgnoreTerminalSignals {
 public:
  IgnoreTerminalSignals() {
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigemptyset(&ignore.sa_mask);
    sigaction(SIGINT, &ignore, &previous_interrupt_);
    sigaction(SIGQUIT, &ignore, &previous_quit_);
  }
  ~IgnoreTerminalSignals() {
    sigaction(SIGINT, &previous_interrupt_, nullptr);
    sigaction(SIGQUIT, &previous_quit_, nullptr);
  }
  IgnoreTerminalSignals(const IgnoreTerminalSignals&) = delete;
  IgnoreTerminalSignals& operator=(const IgnoreTerminalSignals&) = delete;

 private:
  struct sigaction previous_interrupt_ {};
  struct sigaction previous_quit_ {};
};

// A pipe whose both ends close on exec (the child only gets what is dup2'ed onto 1 and 2).
Result<std::pair<UniqueFd, UniqueFd>> MakePipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) {
    return CliError{std::string("cannot create a pipe: ") + std::strerror(errno)};
  }
  return std::pair<UniqueFd, UniqueFd>(UniqueFd(fds[0]), UniqueFd(fds[1]));
}

ExitCode ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 128;
}

std::string ProgramName(const Argv& argv) { return argv.empty() ? "" : argv.front(); }

// Appends what is readable on `fd` to `text`; false at end of file or on an error.
bool ReadAvailable(int fd, std::string& text) {
  char buffer[16384];
  ssize_t count;
  do {
    count = ::read(fd, buffer, sizeof buffer);
  } while (count < 0 && errno == EINTR);
  if (count <= 0) return false;
  text.append(buffer, static_cast<size_t>(count));
  return true;
}

// Reads the child's stdout and stderr until both are closed; false when the deadline passed.
bool ReadUntilClosed(const ChildProcess& child, Clock::time_point deadline,
                     CapturedOutput& output) {
  pollfd fds[2] = {{child.StdoutFd(), POLLIN, 0}, {child.StderrFd(), POLLIN, 0}};
  std::string* targets[2] = {&output.out, &output.err};
  int open_count = 2;
  while (open_count > 0) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int ready = ::poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) return false;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      if (!ReadAvailable(fds[i].fd, *targets[i])) {
        fds[i].fd = -1;  // poll ignores negative descriptors
        --open_count;
      }
    }
  }
  return true;
}

std::optional<ExitCode> WaitUntil(ChildProcess& child, Clock::time_point deadline) {
  while (true) {
    if (std::optional<ExitCode> code = child.TryWait()) return code;
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kExitPollInterval);
  }
}

}  // namespace

Result<ChildProcess> ChildProcess::Spawn(const Argv& argv, ChildStreams streams) {
  if (argv.empty()) return CliError{"internal error: nothing to run"};
  SpawnFileActions actions;
  UniqueFd out_read, out_write, err_read, err_write;
  if (streams == ChildStreams::kCaptured) {
    auto out_pipe = MakePipe();
    if (!out_pipe.ok()) return out_pipe.error();
    auto err_pipe = MakePipe();
    if (!err_pipe.ok()) return err_pipe.error();
    std::tie(out_read, out_write) = std::move(out_pipe).value();
    std::tie(err_read, err_write) = std::move(err_pipe).value();
    actions.StdinFromDevNull();
    actions.Duplicate(out_write.Get(), STDOUT_FILENO);
    actions.Duplicate(err_write.Get(), STDERR_FILENO);
  } else if (streams == ChildStreams::kStdoutToStderr) {
    actions.StdinFromDevNull();
    actions.Duplicate(STDERR_FILENO, STDOUT_FILENO);
  }
  std::vector<char*> pointers;
  for (const std::string& word : argv) pointers.push_back(const_cast<char*>(word.c_str()));
  pointers.push_back(nullptr);
  SpawnAttributes attributes;
  pid_t pid = -1;
  int error = posix_spawnp(&pid, argv.front().c_str(), actions.Get(), attributes.Get(),
                           pointers.data(), environ);
  if (error != 0) {
    return CliError{"cannot run " + ProgramName(argv) + ": " + std::strerror(error) +
                    (error == ENOENT ? " (it is not in PATH)" : "")};
  }
  return ChildProcess(pid, out_read.Release(), err_read.Release());
}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      stdout_fd_(std::exchange(other.stdout_fd_, -1)),
      stderr_fd_(std::exchange(other.stderr_fd_, -1)) {}

ChildProcess& ChildProcess::operator=(ChildProcess&& other) noexcept {
  if (this == &other) return *this;
  if (pid_ > 0) KillAndWait();
  CloseFds();
  pid_ = std::exchange(other.pid_, -1);
  stdout_fd_ = std::exchange(other.stdout_fd_, -1);
  stderr_fd_ = std::exchange(other.stderr_fd_, -1);
  return *this;
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0) KillAndWait();
  CloseFds();
}

void ChildProcess::CloseFds() {
  if (stdout_fd_ >= 0) ::close(std::exchange(stdout_fd_, -1));
  if (stderr_fd_ >= 0) ::close(std::exchange(stderr_fd_, -1));
}

ExitCode ChildProcess::Wait() {
  int status = 0;
  pid_t result;
  do {
    result = ::waitpid(pid_, &status, 0);
  } while (result < 0 && errno == EINTR);
  pid_ = -1;
  return result < 0 ? 128 : ExitCodeOf(status);
}

std::optional<ExitCode> ChildProcess::TryWait() {
  int status = 0;
  pid_t result = ::waitpid(pid_, &status, WNOHANG);
  if (result == 0) return std::nullopt;
  pid_ = -1;
  return result < 0 ? 128 : ExitCodeOf(status);
}

ExitCode ChildProcess::KillAndWait() {
  ::kill(pid_, SIGKILL);
  return Wait();
}

Result<CapturedOutput> RunCaptured(const Argv& argv, std::chrono::milliseconds timeout) {
  Result<ChildProcess> spawned = ChildProcess::Spawn(argv, ChildStreams::kCaptured);
  if (!spawned.ok()) return spawned.error();
  ChildProcess child = std::move(spawned).value();
  const Clock::time_point deadline = Clock::now() + timeout;
  CapturedOutput output;
  std::optional<ExitCode> exit_code;
  if (ReadUntilClosed(child, deadline, output)) exit_code = WaitUntil(child, deadline);
  if (!exit_code) {
    child.KillAndWait();
    return CliError{ProgramName(argv) + " did not finish within " +
                    std::to_string(std::chrono::ceil<std::chrono::seconds>(timeout).count()) +
                    " s and was stopped"};
  }
  output.exit_code = *exit_code;
  return output;
}

Result<ExitCode> RunAttached(const Argv& argv, ChildStreams streams) {
  IgnoreTerminalSignals while_the_child_runs;
  Result<ChildProcess> spawned = ChildProcess::Spawn(argv, streams);
  if (!spawned.ok()) return spawned.error();
  return std::move(spawned).value().Wait();
}

Result<pid_t> SpawnDetached(const Argv& argv, const std::vector<std::string>& environment,
                            const std::string& log) {
  SpawnFileActions actions;
  actions.StdinFromDevNull();
  actions.OutputToLogOnly(log);
  SpawnAttributes attributes;
  attributes.Detached();
  std::vector<char*> arguments;
  for (const std::string& word : argv) arguments.push_back(const_cast<char*>(word.c_str()));
  arguments.push_back(nullptr);
  std::vector<char*> variables;
  for (const std::string& entry : environment)
    variables.push_back(const_cast<char*>(entry.c_str()));
  variables.push_back(nullptr);
  pid_t pid = -1;
  const int failed = ::posix_spawn(&pid, argv.front().c_str(), actions.Get(), attributes.Get(),
                                   arguments.data(), variables.data());
  if (failed != 0) return CliError{"cannot start " + argv.front() + ": " + std::strerror(failed)};
  return pid;
}

}  // namespace tp::cli
