// CompanionTask runs one function beside the caller, on a waiting thread of a TaskGroup when
// there is one (no thread to make: see task_group.h), else on a thread of its own, and Join()
// waits until it ended: the second direction of a relay whose first runs on the caller's thread.
// The destructor joins. Not thread-safe: one owner.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "common/task_group.h"
#include "sync/mutex.h"

namespace tp {

class CompanionTask {
 public:
  // `group` may be null: a thread of its own then.
  CompanionTask(TaskGroup* group, std::function<void()> function)
      : state_(std::make_shared<State>()) {
    auto run = [state = state_, function] {
      function();
      {
        MutexLock lock(state->mutex);
        state->done = true;
      }
      state->ended.NotifyAll();
    };
    if (group == nullptr || !group->Spawn(run)) own_thread_ = std::thread(run);
  }
  ~CompanionTask() { Join(); }
  CompanionTask(const CompanionTask&) = delete;
  CompanionTask& operator=(const CompanionTask&) = delete;

  void Join() {
    if (own_thread_.joinable()) return own_thread_.join();
    MutexLock lock(state_->mutex);
    state_->ended.Wait(state_->mutex, [this]() REQUIRES(state_->mutex) { return state_->done; });
  }

 private:
  struct State {
    Mutex mutex;
    CondVar ended;
    bool done GUARDED_BY(mutex) = false;
  };
  const std::shared_ptr<State> state_;
  std::thread own_thread_;
};

}  // namespace tp
