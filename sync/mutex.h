// Mutex, MutexLock and CondVar: std::mutex, std::lock_guard/unique_lock and
// std::condition_variable (and SharedMutex, ReaderMutexLock for std::shared_mutex) with Clang's
// thread-safety annotations (sync/thread_annotations.h), so
// that the clang build with -Wthread-safety proves every GUARDED_BY member is touched only under
// its lock. Use these instead of the std types everywhere in the project.
//
//   class Counter {
//    public:
//     void Add(int n) EXCLUDES(mutex_) {
//       MutexLock lock(mutex_);
//       total_ += n;
//       changed_.NotifyAll();
//     }
//     void WaitFor(int n) EXCLUDES(mutex_) {
//       MutexLock lock(mutex_);
//       while (total_ < n) changed_.Wait(mutex_);
//     }
//    private:
//     Mutex mutex_;
//     CondVar changed_;  // with mutex_: total_ grew
//     int total_ GUARDED_BY(mutex_) = 0;
//   };
//
// Thread safety: a Mutex, like std::mutex, is not recursive. A CondVar may be waited on with one
// Mutex at a time.
#pragma once

#include <cassert>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "sync/thread_annotations.h"

namespace tp {

class CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() ACQUIRE() { mutex_.lock(); }
  void Unlock() RELEASE() { mutex_.unlock(); }
  bool TryLock() TRY_ACQUIRE(true) { return mutex_.try_lock(); }
  // Tells the analysis that the caller holds the lock where it cannot see it (no run-time check).
  void AssertHeld() const ASSERT_CAPABILITY(this) {}

 private:
  friend class CondVar;
  std::mutex mutex_;
};

// Holds a Mutex from construction to destruction. Unlock() and Lock() let go of it and take it
// again within the scope (e.g. around a blocking call); the destructor releases it only if held.
class SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.Lock(); }
  ~MutexLock() RELEASE() {
    if (held_) mutex_.Unlock();
  }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  void Unlock() RELEASE() {
    mutex_.Unlock();
    held_ = false;
  }
  void Lock() ACQUIRE() {
    mutex_.Lock();
    held_ = true;
  }
  // The same, for a function that is handed this lock (MutexLock&) and annotated RELEASE(m) or
  // REQUIRES(m): naming the mutex lets the analysis see which one is let go of or taken again.
  // `mutex` must be the one this lock holds. (The analysis cannot follow the aliasing inside.)
  void Unlock(Mutex& mutex) RELEASE(mutex) NO_THREAD_SAFETY_ANALYSIS {
    assert(&mutex == &mutex_);
    static_cast<void>(mutex);
    mutex_.Unlock();
    held_ = false;
  }
  void Lock(Mutex& mutex) ACQUIRE(mutex) NO_THREAD_SAFETY_ANALYSIS {
    assert(&mutex == &mutex_);
    static_cast<void>(mutex);
    mutex_.Lock();
    held_ = true;
  }

 private:
  Mutex& mutex_;
  bool held_ = true;
};

// A condition variable for a Mutex. Every wait needs the Mutex held and returns with it held;
// wake-ups may be spurious, so wait in a loop on the condition, or pass the condition as a
// predicate annotated with the lock it reads:
//   changed_.Wait(mutex_, [&]() REQUIRES(mutex_) { return done_; });
class CondVar {
 public:
  CondVar() = default;
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

  void Wait(Mutex& mutex) REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    cv_.wait(lock);
    lock.release();
  }
  // False when `deadline` passed (the condition may still have turned true meanwhile).
  template <class Clock, class Duration>
  bool WaitUntil(Mutex& mutex, const std::chrono::time_point<Clock, Duration>& deadline)
      REQUIRES(mutex) {
    std::unique_lock<std::mutex> lock(mutex.mutex_, std::adopt_lock);
    const std::cv_status status = cv_.wait_until(lock, deadline);
    lock.release();
    return status == std::cv_status::no_timeout;
  }
  template <class Rep, class Period>
  bool WaitFor(Mutex& mutex, const std::chrono::duration<Rep, Period>& timeout) REQUIRES(mutex) {
    return WaitUntil(mutex, std::chrono::steady_clock::now() + timeout);
  }

  // With a predicate: wait until `condition()` is true (or the deadline passed: then the
  // predicate's last value). The predicate runs with the lock held; annotate it REQUIRES(mutex).
  // The analysis cannot match the predicate's lock to `mutex` through the template, hence off.
  template <class Predicate>
  void Wait(Mutex& mutex, Predicate condition) REQUIRES(mutex) NO_THREAD_SAFETY_ANALYSIS {
    while (!condition()) Wait(mutex);
  }
  template <class Clock, class Duration, class Predicate>
  bool WaitUntil(Mutex& mutex, const std::chrono::time_point<Clock, Duration>& deadline,
                 Predicate condition) REQUIRES(mutex) NO_THREAD_SAFETY_ANALYSIS {
    while (!condition()) {
      if (!WaitUntil(mutex, deadline)) return condition();
    }
    return true;
  }
  template <class Rep, class Period, class Predicate>
  bool WaitFor(Mutex& mutex, const std::chrono::duration<Rep, Period>& timeout, Predicate condition)
      REQUIRES(mutex) NO_THREAD_SAFETY_ANALYSIS {
    return WaitUntil(mutex, std::chrono::steady_clock::now() + timeout, std::move(condition));
  }

 private:
  std::condition_variable cv_;
};

// A reader/writer lock: many readers (ReaderMutexLock) or one writer (MutexLock-like
// WriterMutexLock). A member it guards may be read under either and written under the writer's.
class CAPABILITY("shared mutex") SharedMutex {
 public:
  SharedMutex() = default;
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  void Lock() ACQUIRE() { mutex_.lock(); }
  void Unlock() RELEASE() { mutex_.unlock(); }
  void ReaderLock() ACQUIRE_SHARED() { mutex_.lock_shared(); }
  void ReaderUnlock() RELEASE_SHARED() { mutex_.unlock_shared(); }

 private:
  std::shared_mutex mutex_;
};

class SCOPED_CAPABILITY WriterMutexLock {
 public:
  explicit WriterMutexLock(SharedMutex& mutex) ACQUIRE(mutex) : mutex_(mutex) { mutex_.Lock(); }
  ~WriterMutexLock() RELEASE() { mutex_.Unlock(); }
  WriterMutexLock(const WriterMutexLock&) = delete;
  WriterMutexLock& operator=(const WriterMutexLock&) = delete;

 private:
  SharedMutex& mutex_;
};

class SCOPED_CAPABILITY ReaderMutexLock {
 public:
  explicit ReaderMutexLock(SharedMutex& mutex) ACQUIRE_SHARED(mutex) : mutex_(mutex) {
    mutex_.ReaderLock();
  }
  ~ReaderMutexLock() RELEASE_GENERIC() { mutex_.ReaderUnlock(); }
  ReaderMutexLock(const ReaderMutexLock&) = delete;
  ReaderMutexLock& operator=(const ReaderMutexLock&) = delete;

 private:
  SharedMutex& mutex_;
};

}  // namespace tp
