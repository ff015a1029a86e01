#include "cluster/agent/sftp_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "cluster/agent/connection_relay.h"
#include "common/sftp_preface.h"
#include "net/accept.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

namespace tp::agent {
namespace {

std::string CheckFiles(const SftpServerOptions& options) {
  struct stat info {};
  if (::stat(options.exports.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return "the exports folder " + options.exports + " does not exist";
  }
  if (::access(options.sftp_server.c_str(), X_OK) != 0) {
    return "cannot run " + options.sftp_server + ": " + std::strerror(errno);
  }
  if (options.chroot_library.empty() || options.chroot_library.front() != '/' ||
      ::access(options.chroot_library.c_str(), R_OK) != 0) {
    return "the chroot library '" + options.chroot_library + "' is missing (an absolute path)";
  }
  return "";
}

std::vector<char*> CStrings(const std::vector<std::string>& texts) {
  std::vector<char*> pointers;
  for (const std::string& text : texts) pointers.push_back(const_cast<char*>(text.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

}  // namespace

SftpSessionCommand BuildSftpSessionCommand(const SftpServerOptions& options) {
  // -e: log to stderr (the agent's); -d /: start in the export root (inside the chroot). The
  // connection waits on kSessionConnectionFd until the preloaded library, once confined, makes it
  // stdin and stdout (chroot_preload.cc): an unconfined session never gets it.
  return {
      {options.sftp_server, "-e", "-l", "ERROR", "-d", "/"},
      {"LD_PRELOAD=" + options.chroot_library, "TP_CHROOT=" + options.exports,
       "TP_CHROOT_CONNECTION_FD=" + std::to_string(kSessionConnectionFd), "PATH=/usr/bin:/bin"}};
}

std::unique_ptr<SftpServer> SftpServer::Start(SftpServerOptions options, std::string& error) {
  error = CheckFiles(options);
  if (!error.empty()) return nullptr;
  TcpListener listener =
      ListenTcp(options.listen_address + ":" + std::to_string(options.port), error);
  if (!listener.socket.Valid()) {
    error += " (for SFTP)";
    return nullptr;
  }
  std::unique_ptr<SftpServer> server(new SftpServer(std::move(options), std::move(listener.socket),
                                                    static_cast<uint16_t>(listener.bound_port)));
  SftpServer& self = *server;
  server->tasks_.Spawn([&self] { self.AcceptLoop(); });
  spdlog::info("SFTP on {}:{}, confined to {}", self.options_.listen_address, self.bound_port_,
               self.options_.exports);
  return server;
}

SftpServer::SftpServer(SftpServerOptions options, UniqueFd listener, uint16_t bound_port)
    : options_(std::move(options)),
      command_(BuildSftpSessionCommand(options_)),
      listener_(std::move(listener)),
      bound_port_(bound_port),
      tasks_(options_.max_sessions + 1) {}

SftpServer::~SftpServer() {
  stopping_.store(true);
  {
    MutexLock lock(mutex_);
    for (const pid_t pid : sessions_) ::kill(pid, SIGTERM);
  }
  tasks_.JoinAll();
}

size_t SftpServer::LiveSessions() const {
  MutexLock lock(mutex_);
  return sessions_.size();
}

void SftpServer::AcceptLoop() {
  while (!stopping_.load()) {
    pollfd wait{listener_.Get(), POLLIN, 0};
    if (::poll(&wait, 1, static_cast<int>(kPollSlice.count())) <= 0) continue;
    UniqueFd connection = AcceptConnection(listener_.Get());
    if (!connection.Valid()) continue;
    auto shared = std::make_shared<UniqueFd>(std::move(connection));
    if (!tasks_.Spawn([this, shared] { RunSession(std::move(*shared)); })) {
      spdlog::warn("SFTP: too many sessions at once; a connection closed");
    }
  }
}

void SftpServer::RunSession(UniqueFd connection) {
  if (!options_.token.empty()) {
    const std::string wrong = ExpectSftpPreface(connection.Get(), options_.token);
    if (!wrong.empty()) {
      spdlog::warn("SFTP: a connection closed: it sent {}", wrong);
      return;
    }
  }
  // dup2 onto itself would keep close-on-exec: the connection must sit elsewhere first.
  if (connection.Get() == kSessionConnectionFd) {
    connection = UniqueFd(::fcntl(connection.Get(), F_DUPFD_CLOEXEC, kSessionConnectionFd + 1));
    if (!connection.Valid()) return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, connection.Get(), kSessionConnectionFd);
  // The child starts with no blocked signals and default handlers (SIGPIPE included).
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attributes, &none);
  posix_spawnattr_setsigdefault(&attributes, &all);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv = CStrings(command_.argv);
  std::vector<char*> env = CStrings(command_.env);
  pid_t pid = -1;
  int status = 0;
  {
    // Under the lock, so that the destructor either sees the pid or runs before the spawn.
    MutexLock lock(mutex_);
    if (!stopping_.load()) {
      status = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), env.data());
      if (status == 0) sessions_.insert(pid);
    }
  }
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  connection.Reset();  // the session holds its own copy
  if (pid < 0) {
    if (status != 0) spdlog::warn("cannot start {}: {}", argv[0], std::strerror(status));
    return;
  }
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  MutexLock lock(mutex_);
  sessions_.erase(pid);
}

}  // namespace tp::agent
