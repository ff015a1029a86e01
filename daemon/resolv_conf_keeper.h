// ResolvConfKeeper keeps a file holding the text it was given. Docker rewrites a container's
// /etc/resolv.conf (in place) when the container joins a user-defined network, as the daemon
// does when `connect --docker` attaches it to the Teleroute network; that would take the
// daemon's namespace (and every `--network container:` one sharing the file) off the daemon's
// DNS server. The keeper watches the file with inotify and, once a change settles (or every
// `recheck` at the latest), writes the text back in place when the file differs. One thread,
// from construction to destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "daemon/stop_event.h"
#include "net/unique_fd.h"

namespace tp::daemon {

class ResolvConfKeeper {
 public:
  ResolvConfKeeper(std::string path, std::string text, std::chrono::milliseconds recheck);
  ~ResolvConfKeeper();
  ResolvConfKeeper(const ResolvConfKeeper&) = delete;
  ResolvConfKeeper& operator=(const ResolvConfKeeper&) = delete;

  // How many times the text was written back.
  int Restores() const { return restores_.load(); }

 private:
  void Run();
  void RestoreIfChanged();

  const std::string path_;
  const std::string text_;
  const std::chrono::milliseconds recheck_;
  const UniqueFd inotify_;  // watches path_ (invalid when inotify is unavailable)
  std::atomic<int> restores_{0};
  StopEvent stop_;
  std::thread thread_;
};

}  // namespace tp::daemon
