// TaskGroup runs tasks (relays, sessions, accept loops: anything that ends by itself) on their own
// threads, at most `limit` at a time (kDefaultTaskLimit unless given: peers open connections, and
// a thread each must not grow without bound), and joins them: finished ones on each Spawn, all of
// them in JoinAll() and the destructor. A task that cannot start (the limit, or the system has no
// thread to give) is not run and is destroyed at once, closing whatever it owned: the caller's
// connection is refused, never the process ended. Tasks must end by themselves once what they
// wait on is closed; JoinAll does not interrupt them. Thread-safe.
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <system_error>
#include <thread>

#include "sync/mutex.h"

namespace tp {

inline constexpr size_t kDefaultTaskLimit = 1024;

class TaskGroup {
 public:
  explicit TaskGroup(size_t limit = kDefaultTaskLimit) : limit_(limit) {}
  ~TaskGroup() { JoinAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on a new thread; false (and `task` not run, but destroyed) when `limit` tasks
  // still run or no thread can be made.
  bool Spawn(std::function<void()> task) {
    std::list<Task> finished;
    bool started = false;
    {
      MutexLock lock(mutex_);
      for (auto it = tasks_.begin(); it != tasks_.end();) {
        const auto next = std::next(it);
        if (it->done->load()) finished.splice(finished.end(), tasks_, it);
        it = next;
      }
      if (tasks_.size() < limit_) {
        auto done = std::make_shared<std::atomic<bool>>(false);
        try {
          std::thread thread([task, done] {
            task();
            done->store(true);
          });
          tasks_.push_back({std::move(thread), done});
          started = true;
        } catch (const std::system_error&) {
          // No thread to be had (EAGAIN): refused like one past the limit.
        }
      }
    }
    for (Task& ended : finished) ended.thread.join();
    task = nullptr;  // a task that did not start releases what it owns now
    return started;
  }

  // Waits for every task, including those spawned meanwhile.
  void JoinAll() {
    while (true) {
      std::list<Task> running;
      {
        MutexLock lock(mutex_);
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
  Mutex mutex_;
  std::list<Task> tasks_ GUARDED_BY(mutex_);
};

}  // namespace tp
