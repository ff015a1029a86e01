// One direction of a link with latency: chunks go in at time t and come out at t + delay, in
// order, with no bandwidth limit beyond a cap on the bytes in flight (so a stalled reader cannot
// make the proxy buffer without bound).
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <vector>

#include "sync/mutex.h"

namespace tp::bench {

using Clock = std::chrono::steady_clock;

// A thread-safe FIFO of timestamped chunks: one producer (Push/PushEnd), one consumer (PopDue).
// An empty chunk stands for the end of the stream (the sender's half-close).
class DelayLine {
 public:
  struct Chunk {
    std::vector<char> bytes;  // empty: end of stream
    Clock::time_point due;
  };

  explicit DelayLine(size_t max_bytes_in_flight) : max_bytes_in_flight_(max_bytes_in_flight) {}

  // Queues `bytes` to come out at `due` (never earlier than what is queued). Blocks while the
  // bytes in flight exceed the cap. Returns false once the line is closed.
  bool Push(std::vector<char> bytes, Clock::time_point due);

  // Queues the end of the stream.
  void PushEnd(Clock::time_point due);

  // Waits until the oldest chunk is due and returns it; nullopt once the line is closed.
  std::optional<Chunk> PopDue();

  // Drops what is queued and wakes both sides: Push returns false, PopDue nullopt.
  void Close();

 private:
  const size_t max_bytes_in_flight_;
  Mutex mutex_;
  CondVar changed_;
  std::deque<Chunk> chunks_ GUARDED_BY(mutex_);
  size_t bytes_in_flight_ GUARDED_BY(mutex_) = 0;
  bool closed_ GUARDED_BY(mutex_) = false;
};

}  // namespace tp::bench
