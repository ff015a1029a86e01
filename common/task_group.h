// TaskGroup runs tasks (relays, sessions, accept loops: anything that ends by itself) on threads
// of its own, at most `limit` at a time (kDefaultTaskLimit unless given: peers open connections,
// and a thread each must not grow without bound), and joins them in JoinAll() and the
// destructor. A thread whose task ended waits up to kTaskThreadIdleTime for the next task before
// it ends (at most kMaxIdleTaskThreads wait so), so that a new connection's task does not wait
// for a thread to be made (a clone and a new task's first wake-up cost more than a hand-over).
// A task that cannot start (the limit, or the system has no thread to give) is not run and is
// destroyed at once, closing whatever it owned: the caller's connection is refused, never the
// process ended. What a task captured is destroyed when it ends. Tasks must end by themselves
// once what they wait on is closed; JoinAll does not interrupt them. Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <memory>
#include <system_error>
#include <thread>

#include "sync/mutex.h"

namespace tp {

inline constexpr size_t kDefaultTaskLimit = 1024;
inline constexpr size_t kMaxIdleTaskThreads = 8;
inline constexpr std::chrono::seconds kTaskThreadIdleTime{2};

class TaskGroup {
 public:
  explicit TaskGroup(size_t limit = kDefaultTaskLimit) : limit_(limit) {}
  ~TaskGroup() { JoinAll(); }
  TaskGroup(const TaskGroup&) = delete;
  TaskGroup& operator=(const TaskGroup&) = delete;

  // Starts `task` on a waiting thread or a new one; false (and `task` not run, but destroyed)
  // when `limit` tasks still run or no thread can be made.
  bool Spawn(std::function<void()> task) {
    std::list<Worker> ended;
    bool started = false;
    {
      MutexLock lock(mutex_);
      TakeEndedLocked(ended);
      if (running_ < limit_) started = idle_ > 0 ? HandOverLocked(task) : StartLocked(task);
    }
    for (Worker& worker : ended) worker.thread.join();
    task = nullptr;  // a task that did not start releases what it owns now
    return started;
  }

  // Waits until at least `count` threads wait for a task, or `deadline` passes (false).
  bool WaitForWaitingThreads(size_t count, std::chrono::steady_clock::time_point deadline) {
    MutexLock lock(mutex_);
    return changed_.WaitUntil(mutex_, deadline, [&]() REQUIRES(mutex_) { return idle_ >= count; });
  }

  // Waits for every task, including those spawned meanwhile, and ends the waiting threads.
  void JoinAll() {
    while (true) {
      std::list<Worker> workers;
      {
        MutexLock lock(mutex_);
        changed_.Wait(mutex_,
                      [this]() REQUIRES(mutex_) { return running_ == 0 && pending_.empty(); });
        if (workers_.empty()) return;
        ++joining_;
        workers.swap(workers_);
      }
      task_ready_.NotifyAll();
      for (Worker& worker : workers) worker.thread.join();
      MutexLock lock(mutex_);
      --joining_;
    }
  }

 private:
  struct Worker {
    std::thread thread;
    bool ended = false;  // guarded by the group's mutex_
  };

  // Moves the workers whose thread ended to `ended` (to be joined without the lock).
  void TakeEndedLocked(std::list<Worker>& ended) REQUIRES(mutex_) {
    for (auto it = workers_.begin(); it != workers_.end();) {
      const auto next = std::next(it);
      if (it->ended) ended.splice(ended.end(), workers_, it);
      it = next;
    }
  }

  bool HandOverLocked(std::function<void()>& task) REQUIRES(mutex_) {
    pending_.push_back(std::move(task));
    --idle_;
    ++running_;
    task_ready_.NotifyOne();  // one waiting thread is enough, and each takes one task
    return true;
  }

  bool StartLocked(std::function<void()>& task) REQUIRES(mutex_) {
    workers_.emplace_back();
    Worker* worker = &workers_.back();
    try {
      worker->thread = std::thread(
          [this, worker, first = std::move(task)]() mutable { Work(*worker, std::move(first)); });
    } catch (const std::system_error&) {
      workers_.pop_back();  // no thread to be had (EAGAIN): refused like one past the limit
      return false;
    }
    ++running_;
    return true;
  }

  // A worker's thread: runs `task`, then the tasks handed over while it waits.
  void Work(Worker& worker, std::function<void()> task) {
    while (true) {
      task();
      task = nullptr;  // what the task captured goes when it ends
      MutexLock lock(mutex_);
      --running_;
      if (idle_ < kMaxIdleTaskThreads && joining_ == 0) {
        ++idle_;
        changed_.NotifyAll();
        task_ready_.WaitFor(mutex_, kTaskThreadIdleTime, [this]() REQUIRES(mutex_) {
          return !pending_.empty() || joining_ > 0;
        });
        if (!pending_.empty()) {  // Spawn counted it out of idle_ already
          task = std::move(pending_.front());
          pending_.pop_front();
          continue;
        }
        --idle_;
      }
      worker.ended = true;
      changed_.NotifyAll();
      return;
    }
  }

  const size_t limit_;
  Mutex mutex_;
  CondVar task_ready_;  // for waiting threads: a task handed over, or JoinAll ends them
  CondVar changed_;     // for JoinAll and WaitForWaitingThreads: a task ended, a thread waits
  std::list<Worker> workers_ GUARDED_BY(mutex_);
  std::deque<std::function<void()>> pending_ GUARDED_BY(mutex_);  // handed over, not yet taken
  size_t running_ GUARDED_BY(mutex_) = 0;  // tasks started or handed over, not yet ended
  size_t idle_ GUARDED_BY(mutex_) = 0;     // threads waiting with no task handed to them
  int joining_ GUARDED_BY(mutex_) = 0;     // JoinAll calls ending the waiting threads
};

}  // namespace tp
