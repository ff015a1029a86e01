#include "sync/mutex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>
#include <vector>

namespace tp {
namespace {

using namespace std::chrono_literals;

class Counter {
 public:
  void Add(int n) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    total_ += n;
    changed_.NotifyAll();
  }
  // True once total_ reached n, false when `timeout` passed first.
  bool WaitFor(int n, std::chrono::milliseconds timeout) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return changed_.WaitFor(mutex_, timeout, [&]() REQUIRES(mutex_) { return total_ >= n; });
  }
  int total() EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    return total_;
  }
  // Lets go of the lock in the middle, as around a blocking call.
  int AddAroundAGap(int n) EXCLUDES(mutex_) {
    MutexLock lock(mutex_);
    total_ += n;
    lock.Unlock();
    std::this_thread::yield();
    lock.Lock();
    return total_;
  }

 private:
  Mutex mutex_;
  CondVar changed_;
  int total_ GUARDED_BY(mutex_) = 0;
};

TEST(MutexTest, ThreadsAddUnderTheLock) {
  Counter counter;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 1000; ++j) counter.Add(1);
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(counter.total(), 4000);
}

TEST(MutexTest, AScopedLockCanLetGoAndTakeAgain) {
  Counter counter;
  EXPECT_EQ(counter.AddAroundAGap(2), 2);
  EXPECT_EQ(counter.total(), 2);  // the destructor released it
}

TEST(CondVarTest, APredicateWaitSeesTheChange) {
  Counter counter;
  std::thread adder([&] {
    std::this_thread::sleep_for(20ms);
    counter.Add(3);
  });
  EXPECT_TRUE(counter.WaitFor(3, 10s));
  adder.join();
}

TEST(CondVarTest, APredicateWaitEndsAtItsDeadline) {
  Counter counter;
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(counter.WaitFor(1, 50ms));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
}

TEST(SharedMutexTest, ReadersShareWritersExclude) {
  SharedMutex mutex;
  {
    ReaderMutexLock first(mutex);
    // Another reader gets in while this one holds it (it would hang if readers excluded).
    std::thread([&] { ReaderMutexLock second(mutex); }).join();
  }
  WriterMutexLock writer(mutex);
}

}  // namespace
}  // namespace tp
