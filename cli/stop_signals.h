// StopSignals: while an instance lives, SIGINT, SIGTERM and SIGHUP (the terminal closed) are
// blocked so that they wait to be taken (Take, WaitFor) instead of killing the process in the
// middle of work that must be undone.
// The destructor consumes the pending ones (the caller has acted on the first already) and
// restores the previous mask. Instances nest.
#pragma once

#include <signal.h>

#include <chrono>

#include "cli/stop_source.h"

namespace tp::cli {

class StopSignals : public StopSource {
 public:
  StopSignals();
  ~StopSignals() override;
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  // Waits up to `timeout` for SIGINT, SIGTERM or SIGHUP and takes it; true when one came (Take:
  // without waiting).
  bool WaitFor(std::chrono::milliseconds timeout) const override;

 private:
  sigset_t signals_{};
  sigset_t previous_{};
};

}  // namespace tp::cli
