// StopSignals: while an instance lives, SIGINT, SIGTERM and SIGHUP (the terminal closed) are
// blocked so that they wait to be taken (Take, WaitFor) instead of killing the process in the
// middle of work that must be undone.
// The destructor consumes the pending ones (the caller has acted on the first already) and
// restores the previous mask. Instances nest.
#pragma once

#include <signal.h>

#include <chrono>

namespace tp::cli {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Takes a pending SIGINT, SIGTERM or SIGHUP without waiting; true when there was one.
  bool Take() const { return WaitFor(std::chrono::milliseconds(0)); }
  // Waits up to `timeout` for one of them; true when one came.
  bool WaitFor(std::chrono::milliseconds timeout) const;

 private:
  sigset_t signals_{};
  sigset_t previous_{};
};

}  // namespace tp::cli
