// StopEvent is a one-way switch that poll() can wait on: an eventfd that turns readable, and
// stays readable, once Trigger() is called. Thread-safe.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>

#include "net/unique_fd.h"

namespace tp::daemon {

class StopEvent {
 public:
  StopEvent() : event_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {}

  bool Valid() const { return event_.Valid(); }
  int Fd() const { return event_.Get(); }
  bool Triggered() const { return triggered_.load(); }
  // Idempotent.
  void Trigger() {
    if (triggered_.exchange(true)) return;
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(event_.Get(), &one, sizeof one);
  }

 private:
  UniqueFd event_;
  std::atomic<bool> triggered_{false};
};

}  // namespace tp::daemon
