// The accept loop of sftp-export: one sftp-server per connection, child reaping, clean shutdown.
#pragma once

#include <signal.h>

#include <chrono>

#include "cluster/sftp-export/session_launcher.h"
#include "net/tcp_socket.h"
#include "net/unique_fd.h"

namespace tp::sftp_export {

// Blocks SIGCHLD, SIGTERM, SIGINT and SIGHUP for the process and delivers them on a signalfd.
// Construct it before anything that may receive those signals; the destructor restores the mask.
class ProcessSignals {
 public:
  ProcessSignals();
  ~ProcessSignals();
  ProcessSignals(const ProcessSignals&) = delete;
  ProcessSignals& operator=(const ProcessSignals&) = delete;

  bool Valid() const { return signal_fd_.Valid(); }
  int Fd() const { return signal_fd_.Get(); }
  // The mask in force before construction: what child processes should start with.
  const sigset_t& OriginalMask() const { return original_mask_; }

  // Reads one pending signal number; 0 when none is pending.
  int ReadPending() const;

 private:
  sigset_t handled_{};
  sigset_t original_mask_{};
  UniqueFd signal_fd_;
};

// Runs until SIGTERM, SIGINT or SIGHUP: accepts connections, starts a session for each, reaps
// sessions that end; on the way out terminates every live session (so the peers see the server
// go away). Single-threaded.
class ExportServer {
 public:
  ExportServer(TcpListener listener, const SessionLauncher& launcher,
               const ProcessSignals& signals);

  // Returns the number of the signal that ended the loop, or -1 on a fatal poll error.
  int Run();

 private:
  void AcceptPending();
  void StartSession(UniqueFd connection);
  // Handles the pending signals; returns the shutdown signal's number if one came, else 0.
  int HandleSignals();

  TcpListener listener_;
  const SessionLauncher& launcher_;
  const ProcessSignals& signals_;
  LiveSessions sessions_;
};

// How long live sessions get after SIGTERM before they are killed.
inline constexpr std::chrono::milliseconds kSessionShutdownGrace{2000};

}  // namespace tp::sftp_export
