// StopSource: where a request to stop a running command comes from. On the command line it is
// Ctrl-C (StopSignals: SIGINT, SIGTERM, SIGHUP); in `telepresence ui` a button (StopFlag). The
// engagement commands ask it between their steps and while the handler runs.
#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "sync/mutex.h"

namespace tp::cli {

class StopSource {
 public:
  virtual ~StopSource() = default;
  // Waits up to `timeout` for a stop request and takes it; true when there was one.
  virtual bool WaitFor(std::chrono::milliseconds timeout) const = 0;
  // Takes a pending stop request without waiting; true when there was one.
  bool Take() const { return WaitFor(std::chrono::milliseconds(0)); }
};

// A stop request set by another thread. Like a signal, each request is taken once: the command
// acts on it where it takes it (stops its handler, undoes its steps) and then waits for that to
// finish without being asked again. Thread-safe.
class StopFlag : public StopSource {
 public:
  void Request() EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    pending_ = true;
    changed_.NotifyAll();
  }
  bool WaitFor(std::chrono::milliseconds timeout) const override EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    if (!changed_.WaitFor(mutex_, timeout, [this]() REQUIRES(mutex_) { return pending_; })) {
      return false;
    }
    pending_ = false;
    return true;
  }

 private:
  mutable Mutex mutex_;
  mutable CondVar changed_;  // with mutex_: a request came
  mutable bool pending_ GUARDED_BY(mutex_) = false;
};

// Makes the StopSource of one command run; nullptr in CliServices means StopSignals.
using StopSourceFactory = std::function<std::unique_ptr<StopSource>()>;

}  // namespace tp::cli
