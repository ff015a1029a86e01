#include "bench/delay_line.h"

namespace tp::bench {

bool DelayLine::Push(std::vector<char> bytes, Clock::time_point due) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return closed_ || bytes_in_flight_ < max_bytes_in_flight_; });
  if (closed_) return false;
  bytes_in_flight_ += bytes.size();
  chunks_.push_back({std::move(bytes), due});
  changed_.notify_all();
  return true;
}

void DelayLine::PushEnd(Clock::time_point due) {
  std::lock_guard lock(mutex_);
  if (closed_) return;
  chunks_.push_back({{}, due});
  changed_.notify_all();
}

std::optional<DelayLine::Chunk> DelayLine::PopDue() {
  std::unique_lock lock(mutex_);
  while (true) {
    if (closed_) return std::nullopt;
    if (chunks_.empty()) {
      changed_.wait(lock);
      continue;
    }
    const auto due = chunks_.front().due;
    if (Clock::now() < due) {
      changed_.wait_until(lock, due);
      continue;
    }
    Chunk chunk = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_in_flight_ -= chunk.bytes.size();
    changed_.notify_all();
    return chunk;
  }
}

void DelayLine::Close() {
  std::lock_guard lock(mutex_);
  closed_ = true;
  chunks_.clear();
  bytes_in_flight_ = 0;
  changed_.notify_all();
}

}  // namespace tp::bench
