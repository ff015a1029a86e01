// TaskGroup runs tasks (relays, sessions, accept loops: anything that ends by itself) on their own
// threads, at most `limit` at a time, and joins them: finished ones on each Spawn, all of them in
// JoinAll() and the destructor. Tasks must end by themselves once what they wait on is closed;
// JoinAll does not interrupt them. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <limits>
#include <list>
#include <memory>
#include <mutex>
#include <thread>

namespace tp {

class TaskGroup {
 public:
  explicit TaskGroup(size_t limit = std::numeric_limits<size_t>::max()) : limit_(limit) {}
  ~TaskGroup() { JoinAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on a new thread; false (and `task` not run) when `limit` tasks still run.
  bool Spawn(std::function<void()> task) {
    std::list<Task> finished;
    bool started = false;
    {
      std::lock_guard lock(mutex_);
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        const auto next = std::next(it);
        if (it->done->load()) finished.splice(finished.end(), tasks_, it);
        it = next;
      }
      if (tasks_.size() < limit_) {
        auto done = std::make_shared<std::atomic<bool>>(false);
        tasks_.push_back({std::thread([task = std::move(task), done] {
                            task();
                            done->store(true);
                          }),
                          done});
        started = true;
      }
    }
    for (Task& ended : finished) ended.thread.join();
    return started;
  }

  // Waits for every task, including those spawned meanwhile.
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

 private:
  struct Task {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  const size_t limit_;
  std::mutex mutex_;
  std::list<Task> tasks_;  // guarded by mutex_
};

}  // namespace tp
