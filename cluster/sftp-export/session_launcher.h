// Starting one sftp-server process per TCP connection, and keeping track of the live ones.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <set>
#include <string>
#include <vector>

#include "cluster/sftp-export/export_options.h"
#include "net/unique_fd.h"

namespace tp::sftp_export {

// Builds the sftp-server command line once and forks/execs it for each connection.
// Contract: the calling process is single-threaded (it forks), and its own descriptors are
// close-on-exec, so the child holds only stdin/stdout (the socket) and stderr.
class SessionLauncher {
 public:
  // `child_signal_mask` is the signal mask the child starts with (the mask from before the
  // parent blocked its signals for signalfd).
  SessionLauncher(const ExportOptions& options, const sigset_t& child_signal_mask);

  // Forks a session serving `connection`. Returns its pid, or -1 (with errno) when fork fails.
  // The parent's copy of the connection is closed when `connection` goes out of scope.
  pid_t Launch(const UniqueFd& connection) const;

  // The command line, for messages and tests.
  const std::vector<std::string>& Command() const { return command_; }

 private:
  [[noreturn]] void RunChild(int connection_fd, pid_t parent) const;

  std::vector<std::string> command_;
  sigset_t child_signal_mask_;
};

// The session processes that have not been reaped yet.
class LiveSessions {
 public:
  void Add(pid_t pid) { pids_.insert(pid); }
  size_t Count() const { return pids_.size(); }

  // Reaps every child that has exited, without blocking.
  void ReapExited();

  // Sends SIGTERM to every live session, waits up to `grace` for them to exit, then SIGKILLs and
  // reaps what is left.
  void TerminateAll(std::chrono::milliseconds grace);

 private:
  void SignalAll(int signal_number) const;

  std::set<pid_t> pids_;
};

// Escapes '%' for sftp-server's -d argument, which expands %d, %u and %%.
std::string EscapeStartDirectory(const std::string& directory);

}  // namespace tp::sftp_export
