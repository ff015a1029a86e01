#include "telemount/fs/data_generations.h"

#include <algorithm>

#include "sync/mutex.h"

namespace tp::telemount {

std::shared_ptr<DataGenerations::Counter> DataGenerations::ForPath(const std::string& path) {
  MutexLock lock(mutex_);
  std::weak_ptr<Counter>& slot = counters_[path];
  if (auto counter = slot.lock()) return counter;
  auto counter = std::make_shared<Counter>(0);
  slot = counter;
  if (counters_.size() >= prune_at_) {
    std::erase_if(counters_, [](const auto& entry) { return entry.second.expired(); });
    prune_at_ = std::max<size_t>(1024, 2 * counters_.size());
  }
  return counter;
}

void DataGenerations::Bump(const std::string& path) {
  std::shared_ptr<Counter> counter;
  {
    MutexLock lock(mutex_);
    auto it = counters_.find(path);
    if (it == counters_.end()) return;
    counter = it->second.lock();
  }
  if (counter) counter->fetch_add(1);
}

}  // namespace tp::telemount
