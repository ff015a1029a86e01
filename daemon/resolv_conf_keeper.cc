#include "daemon/resolv_conf_keeper.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "daemon/cluster_resolv_conf.h"

namespace tp::daemon {
namespace {

// A writer (Docker: truncate, then write) is done once the file has been quiet this long.
constexpr int kSettleMilliseconds = 20;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

// Reads and discards the pending inotify events; false when there were none.
bool DrainEvents(int inotify) {
  alignas(inotify_event) char buffer[4096];
  bool any = false;
  while (::read(inotify, buffer, sizeof buffer) > 0) any = true;
  return any;
}

}  // namespace

ResolvConfKeeper::ResolvConfKeeper(std::string path, std::string text,
                                   std::chrono::milliseconds recheck)
    : path_(std::move(path)),
      text_(std::move(text)),
      recheck_(recheck),
      inotify_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
  // Watching before returning: a change right after construction is seen.
  if (!inotify_.Valid() || ::inotify_add_watch(inotify_.Get(), path_.c_str(),
                                               IN_MODIFY | IN_CLOSE_WRITE | IN_ATTRIB) < 0) {
    spdlog::warn("cannot watch {} ({}); checking it every {} ms instead", path_,
                 std::strerror(errno), recheck_.count());
  }
  thread_ = std::thread([this] { Run(); });
}

ResolvConfKeeper::~ResolvConfKeeper() {
  stop_.Trigger();
  thread_.join();
}

void ResolvConfKeeper::Run() {
  const int inotify = inotify_.Get();
  RestoreIfChanged();
  while (!stop_.Triggered()) {
    pollfd waiters[] = {{inotify, POLLIN, 0}, {stop_.Fd(), POLLIN, 0}};
    const int ready = ::poll(waiters, 2, static_cast<int>(recheck_.count()));
    if (stop_.Triggered()) return;
    if (ready > 0 && waiters[0].revents != 0) {
      // Let the writer finish: wait until the events stop coming.
      while (DrainEvents(inotify)) {
        pollfd settle{inotify, POLLIN, 0};
        ::poll(&settle, 1, kSettleMilliseconds);
      }
    }
    RestoreIfChanged();
  }
}

void ResolvConfKeeper::RestoreIfChanged() {
  if (ReadFile(path_) == text_) return;
  std::string error;
  if (!WriteFileInPlace(path_, text_, error)) {
    spdlog::error("cannot restore {}: {}", path_, error);
    return;
  }
  ++restores_;
  spdlog::info(
      "{} was rewritten (by Docker, joining a network?); pointed it at our DNS server "
      "again",
      path_);
}

}  // namespace tp::daemon
