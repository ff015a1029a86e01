// DataGenerations gives the open files of one remote path a shared counter of the changes made to
// the path's contents through this mount (writes, truncations, opens with O_TRUNC): the write
// generation of the read-ahead cache. A handle's read-ahead belongs to the value it was asked
// for at; once the value moved, a read drops it and asks the server again. A change moves the
// counter when it starts and again once its request was sent, so read-ahead requested in between
// (which may have reached the server first) is dropped too. Thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "sync/mutex.h"

namespace tp::telemount {

class DataGenerations {
 public:
  using Counter = std::atomic<uint64_t>;

  // The counter of `path`, shared by every holder while any holds it.
  std::shared_ptr<Counter> ForPath(const std::string& path);
  // Moves the counter of `path` (nothing to do when no open file holds it).
  void Bump(const std::string& path);

 private:
  Mutex mutex_;
  std::unordered_map<std::string, std::weak_ptr<Counter>> counters_ GUARDED_BY(mutex_);
  size_t prune_at_ GUARDED_BY(mutex_) = 1024;
};

}  // namespace tp::telemount
