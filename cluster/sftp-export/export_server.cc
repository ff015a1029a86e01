#include "cluster/sftp-export/export_server.h"

#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

namespace tp::sftp_export {
namespace {

// After an accept error such as EMFILE the listener stays readable: pause instead of spinning.
constexpr std::chrono::milliseconds kAcceptErrorBackoff{100};

bool IsTransientAcceptError(int error) {
  return error == EINTR || error == ECONNABORTED || error == EPROTO || error == EPERM;
}

}  // namespace

ProcessSignals::ProcessSignals() {
  sigemptyset(&handled_);
  for (const int number : {SIGCHLD, SIGTERM, SIGINT, SIGHUP}) sigaddset(&handled_, number);
  sigprocmask(SIG_BLOCK, &handled_, &original_mask_);
  signal_fd_.Reset(signalfd(-1, &handled_, SFD_NONBLOCK | SFD_CLOEXEC));
}

ProcessSignals::~ProcessSignals() { sigprocmask(SIG_SETMASK, &original_mask_, nullptr); }

int ProcessSignals::ReadPending() const {
  signalfd_siginfo info{};
  const ssize_t got = ::read(signal_fd_.Get(), &info, sizeof info);
  return got == static_cast<ssize_t>(sizeof info) ? static_cast<int>(info.ssi_signo) : 0;
}

ExportServer::ExportServer(TcpListener listener, const SessionLauncher& launcher,
                           const ProcessSignals& signals)
    : listener_(std::move(listener)), launcher_(launcher), signals_(signals) {}

int ExportServer::Run() {
  while (true) {
    pollfd watched[] = {{listener_.socket.Get(), POLLIN, 0}, {signals_.Fd(), POLLIN, 0}};
    if (poll(watched, 2, -1) < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "sftp-export: poll: %s\n", std::strerror(errno));
      sessions_.TerminateAll(kSessionShutdownGrace);
      return -1;
    }
    if (watched[1].revents & POLLIN) {
      if (const int shutdown_signal = HandleSignals(); shutdown_signal != 0) {
        sessions_.TerminateAll(kSessionShutdownGrace);
        return shutdown_signal;
      }
    }
    if (watched[0].revents & POLLIN) AcceptPending();
  }
}

void ExportServer::AcceptPending() {
  while (true) {
    UniqueFd connection(accept4(listener_.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.Valid()) {
      StartSession(std::move(connection));
      continue;
    }
    if (errno == EAGAIN || errno == EWOULDBLOCK) return;
    if (IsTransientAcceptError(errno)) continue;
    std::fprintf(stderr, "sftp-export: accept: %s\n", std::strerror(errno));
    std::this_thread::sleep_for(kAcceptErrorBackoff);
    return;
  }
}

void ExportServer::StartSession(UniqueFd connection) {
  EnableNoDelay(connection.Get());
  const pid_t pid = launcher_.Launch(connection);
  if (pid < 0) {
    std::fprintf(stderr, "sftp-export: fork: %s\n", std::strerror(errno));
    return;  // the connection closes here: the client sees the server refuse
  }
  sessions_.Add(pid);
}

int ExportServer::HandleSignals() {
  while (const int number = signals_.ReadPending()) {
    if (number == SIGCHLD) {
      sessions_.ReapExited();
    } else {
      return number;
    }
  }
  return 0;
}

}  // namespace tp::sftp_export
