#include "cluster/sftp-export/session_launcher.h"

#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace tp::sftp_export {
namespace {

constexpr std::chrono::milliseconds kReapPollInterval{10};
constexpr int kExecFailedStatus = 127;

std::vector<std::string> BuildCommand(const ExportOptions& options) {
  std::vector<std::string> command = {
      options.sftp_server, "-d", EscapeStartDirectory(options.root), "-e", "-l", "ERROR"};
  if (options.read_only) command.push_back("-R");
  return command;
}

}  // namespace

std::string EscapeStartDirectory(const std::string& directory) {
  std::string escaped;
  for (const char c : directory) {
    escaped += c;
    if (c == '%') escaped += '%';
  }
  return escaped;
}

SessionLauncher::SessionLauncher(const ExportOptions& options, const sigset_t& child_signal_mask)
    : command_(BuildCommand(options)), child_signal_mask_(child_signal_mask) {}

pid_t SessionLauncher::Launch(const UniqueFd& connection) const {
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) RunChild(connection.Get(), parent);
  return pid;
}

void SessionLauncher::RunChild(int connection_fd, pid_t parent) const {
  // A session must not outlive the export, even when the export is SIGKILLed (also if that
  // happened before prctl took effect).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(kExecFailedStatus);
  signal(SIGPIPE, SIG_DFL);
  sigprocmask(SIG_SETMASK, &child_signal_mask_, nullptr);
  if (dup2(connection_fd, STDIN_FILENO) < 0 || dup2(connection_fd, STDOUT_FILENO) < 0) {
    std::fprintf(stderr, "sftp-export: dup2: %s\n", std::strerror(errno));
    _exit(kExecFailedStatus);
  }
  std::vector<char*> argv;
  for (const auto& argument : command_) argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  execv(argv[0], argv.data());
  std::fprintf(stderr, "sftp-export: cannot run %s: %s\n", argv[0], std::strerror(errno));
  _exit(kExecFailedStatus);
}

void LiveSessions::ReapExited() {
  for (auto it = pids_.begin(); it != pids_.end();) {
    const pid_t result = waitpid(*it, nullptr, WNOHANG);
    if (result == *it || (result < 0 && errno == ECHILD)) {
      it = pids_.erase(it);
    } else {
      ++it;
    }
  }
}

void LiveSessions::SignalAll(int signal_number) const {
  for (const pid_t pid : pids_) kill(pid, signal_number);
}

void LiveSessions::TerminateAll(std::chrono::milliseconds grace) {
  SignalAll(SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!pids_.empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(kReapPollInterval);
    ReapExited();
  }
  SignalAll(SIGKILL);
  for (const pid_t pid : pids_) waitpid(pid, nullptr, 0);
  pids_.clear();
}

}  // namespace tp::sftp_export
