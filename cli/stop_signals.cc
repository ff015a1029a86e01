#include "cli/stop_signals.h"

namespace tp::cli {

StopSignals::StopSignals() {
  sigemptyset(&signals_);
  sigaddset(&signals_, SIGINT);
  sigaddset(&signals_, SIGTERM);
  sigaddset(&signals_, SIGHUP);
  sigprocmask(SIG_BLOCK, &signals_, &previous_);
}

StopSignals::~StopSignals() {
  while (Take()) {
  }
  sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

bool StopSignals::WaitFor(std::chrono::milliseconds timeout) const {
  const timespec wait{.tv_sec = timeout.count() / 1000,
                      .tv_nsec = (timeout.count() % 1000) * 1000000};
  const int signal = sigtimedwait(&signals_, nullptr, &wait);
  return signal == SIGINT || signal == SIGTERM || signal == SIGHUP;
}

}  // namespace tp::cli
