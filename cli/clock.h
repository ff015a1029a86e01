// Time for the commands that wait (connect, quit), behind an interface so that tests run them
// with a fake clock that advances only when they sleep.
#pragma once

#include <chrono>
#include <thread>

namespace tp::cli {

using SteadyTime = std::chrono::steady_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime Now() = 0;
  virtual void SleepFor(std::chrono::milliseconds duration) = 0;
};

class SystemClock : public Clock {
 public:
  SteadyTime Now() override { return std::chrono::steady_clock::now(); }
  void SleepFor(std::chrono::milliseconds duration) override {
    std::this_thread::sleep_for(duration);
  }
};

}  // namespace tp::cli
