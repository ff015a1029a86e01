// SftpServer serves the app's volumes: it listens on a TCP port and runs one OpenSSH
// sftp-server per connection (stdin and stdout the socket, stderr the agent's), confined to
// the exports folder. sftp-server is dynamically linked, so the confinement happens after exec:
// it starts with LD_PRELOAD=libtp_chroot.so and TP_CHROOT=<exports>, whose constructor chroots
// there before sftp-server's main runs. Sessions are started with posix_spawn (safe in a
// threaded process) and reaped by their own thread; the destructor stops accepting, sends
// SIGTERM to live sessions, and joins. With a token, a connection that does not start with its
// preface within kSftpPrefaceTimeout is closed and no sftp-server runs for it.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/task_group.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp::agent {

struct SftpServerOptions {
  std::string listen_address;  // numeric IPv4
  uint16_t port = 8022;        // 0: any free port
  std::string exports;         // the folder sessions are confined to
  std::string sftp_server = "/usr/lib/openssh/sftp-server";
  std::string chroot_library;  // absolute path of libtp_chroot.so
  // The token a client shows first (common/sftp_preface.h) before a session is started for it;
  // "": none asked. The agent makes one at start and gives it to the manager, which tells only a
  // daemon that engages the workload: the pod network cannot reach the volumes without it.
  std::string token{};
  // Sessions at once (a thread and an sftp-server process each); a connection past them is
  // closed at once.
  size_t max_sessions = 32;
};

// Where a session finds its client's connection until it is confined (chroot_preload.cc).
inline constexpr int kSessionConnectionFd = 3;

// The command and environment of one session, for tests and messages.
struct SftpSessionCommand {
  std::vector<std::string> argv;
  std::vector<std::string> env;  // KEY=VALUE
};
SftpSessionCommand BuildSftpSessionCommand(const SftpServerOptions& options);

class SftpServer {
 public:
  // nullptr with `error` set when the port cannot be bound or a file is missing.
  static std::unique_ptr<SftpServer> Start(SftpServerOptions options, std::string& error);
  ~SftpServer();
  SftpServer(const SftpServer&) = delete;
  SftpServer& operator=(const SftpServer&) = delete;

  uint16_t BoundPort() const { return bound_port_; }
  size_t LiveSessions() const;

 private:
  SftpServer(SftpServerOptions options, UniqueFd listener, uint16_t bound_port);
  void AcceptLoop();
  // Spawns a session on `connection` and waits for it to exit.
  void RunSession(UniqueFd connection);

  const SftpServerOptions options_;
  const SftpSessionCommand command_;
  UniqueFd listener_;
  uint16_t bound_port_ = 0;
  std::atomic<bool> stopping_{false};
  mutable Mutex mutex_;
  std::set<pid_t> sessions_ GUARDED_BY(mutex_);
  TaskGroup tasks_;  // the accept loop and the sessions; last: joined first
};

}  // namespace tp::agent
