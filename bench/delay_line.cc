#include "bench/delay_line.h"

#include "sync/mutex.h"

namespace tp::bench {

bool DelayLine::Push(std::vector<char> bytes, Clock::time_point due) {
  MutexLock lock(mutex_);
  changed_.Wait(mutex_, [&]() REQUIRES(mutex_) {
    return closed_ || bytes_in_flight_ < max_bytes_in_flight_;
  });
  if (closed_) return false;
  bytes_in_flight_ += bytes.size();
  chunks_.push_back({std::move(bytes), due});
  changed_.NotifyAll();
  return true;
}

void DelayLine::PushEnd(Clock::time_point due) {
  MutexLock lock(mutex_);
  if (closed_) return;
  chunks_.push_back({{}, due});
  changed_.NotifyAll();
}

std::optional<DelayLine::Chunk> DelayLine::PopDue() {
  MutexLock lock(mutex_);
  while (true) {
    if (closed_) return std::nullopt;
    if (chunks_.empty()) {
      changed_.Wait(mutex_);
      continue;
    }
    const auto due = chunks_.front().due;
    if (Clock::now() < due) {
      changed_.WaitUntil(mutex_, due);
      continue;
    }
    Chunk chunk = std::move(chunks_.front());
    chunks_.pop_front();
    bytes_in_flight_ -= chunk.bytes.size();
    changed_.NotifyAll();
    return chunk;
  }
}

void DelayLine::Close() {
  MutexLock lock(mutex_);
  closed_ = true;
  chunks_.clear();
  bytes_in_flight_ = 0;
  changed_.NotifyAll();
}

}  // namespace tp::bench
