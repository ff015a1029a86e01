// TaskGroup runs tasks on their own threads and joins them: finished ones on each Spawn, all of
// them in JoinAll() and the destructor. Tasks must end by themselves (after whatever they wait
// on was closed); JoinAll does not interrupt them. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace tp::manager {

class TaskGroup {
 public:
  TaskGroup() = default;
  ~TaskGroup() { JoinAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  void Spawn(std::function<void()> task) {
    auto done = std::make_shared<std::atomic<bool>>(false);
    std::thread thread([task = std::move(task), done] {
      task();
      done->store(true);
    });
    std::list<Task> finished;
    {
      std::lock_guard lock(mutex_);
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        auto next = std::next(it);
        if (it->done->load()) finished.splice(finished.end(), tasks_, it);
        it = next;
      }
      tasks_.push_back({std::move(thread), std::move(done)});
    }
    for (Task& task : finished) task.thread.join();
  }

  void JoinAll() {
    while (true) {
      std::list<Task> running;
      {
        std::lock_guard lock(mutex_);
        running.swap(tasks_);
      }
      if (running.empty()) return;
      for (Task& task : running) task.thread.join();
    }
  }

  size_t Running() const {
    std::lock_guard lock(mutex_);
    size_t count = 0;
    for (const Task& task : tasks_) count += task.done->load() ? 0 : 1;
    return count;
  }

 private:
  struct Task {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };
  mutable std::mutex mutex_;
  std::list<Task> tasks_;  // guarded by mutex_
};

}  // namespace tp::manager
