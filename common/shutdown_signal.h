// ShutdownSignal turns SIGINT/SIGTERM/SIGHUP into an ordinary wait: construct it in main before
// any thread starts (it blocks those signals in every thread created afterwards), then Wait().
#pragma once

#include <csignal>

namespace tp {

class ShutdownSignal {
 public:
  ShutdownSignal();
  ~ShutdownSignal();
  ShutdownSignal(const ShutdownSignal&) = delete;
  ShutdownSignal& operator=(const ShutdownSignal&) = delete;

  // Blocks until one of the shutdown signals arrives (or Trigger() is called); returns its number.
  int Wait();

  // Makes Wait() return as if SIGTERM had arrived. Safe from any thread.
  static void Trigger();

 private:
  sigset_t signals_{};
  sigset_t previous_{};
};

}  // namespace tp
