#include "common/task_group.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "common/companion_task.h"
#include "sync/mutex.h"

namespace tp {
namespace {

using namespace std::chrono_literals;

// Holds its tasks until released.
class Gate {
 public:
  void Wait() {
    MutexLock lock(mutex_);
    opened_.Wait(mutex_, [this]() REQUIRES(mutex_) { return open_; });
  }
  void Open() {
    {
      MutexLock lock(mutex_);
      open_ = true;
    }
    opened_.NotifyAll();
  }

 private:
  Mutex mutex_;
  CondVar opened_;
  bool open_ GUARDED_BY(mutex_) = false;
};

TEST(TaskGroupTest, HasALimitByDefault) { EXPECT_LT(kDefaultTaskLimit, size_t{100000}); }

TEST(TaskGroupTest, ATaskPastTheLimitIsRefusedAndWhatItOwnedIsReleasedAtOnce) {
  Gate gate;
  TaskGroup tasks(2);
  EXPECT_TRUE(tasks.Spawn([&gate] { gate.Wait(); }));
  EXPECT_TRUE(tasks.Spawn([&gate] { gate.Wait(); }));
  auto connection = std::make_shared<int>(42);  // stands for a client's socket
  std::weak_ptr<int> watched = connection;
  bool ran = false;
  EXPECT_FALSE(tasks.Spawn([owned = std::move(connection), &ran] { ran = true; }));
  EXPECT_TRUE(watched.expired()) << "the refused task's connection is closed, not kept";
  gate.Open();
  tasks.JoinAll();
  EXPECT_FALSE(ran);
  EXPECT_TRUE(tasks.Spawn([&ran] { ran = true; })) << "room again once the others ended";
  tasks.JoinAll();
  EXPECT_TRUE(ran);
}

TEST(TaskGroupTest, AStartedTasksCaptureLivesUntilItEnds) {
  TaskGroup tasks(4);
  auto resource = std::make_shared<int>(7);
  std::weak_ptr<int> watched = resource;
  Gate gate;
  int seen = 0;
  ASSERT_TRUE(tasks.Spawn([owned = std::move(resource), &gate, &seen] {
    gate.Wait();
    seen = *owned;
  }));
  EXPECT_FALSE(watched.expired());
  gate.Open();
  tasks.JoinAll();
  EXPECT_EQ(seen, 7);
}

// A thread whose task ended takes the next one: a new connection's task does not wait for a
// thread to be made; and JoinAll ends the waiting threads at once.
TEST(TaskGroupTest, AThreadWhoseTaskEndedRunsTheNextOne) {
  TaskGroup tasks(4);
  Mutex mutex;
  CondVar changed;
  std::vector<std::thread::id> threads;
  const auto record = [&] {
    {
      MutexLock lock(mutex);
      threads.push_back(std::this_thread::get_id());
    }
    changed.NotifyAll();
  };
  ASSERT_TRUE(tasks.Spawn(record));
  ASSERT_TRUE(tasks.WaitForWaitingThreads(1, std::chrono::steady_clock::now() + 10s));
  ASSERT_TRUE(tasks.Spawn(record));
  {
    MutexLock lock(mutex);
    ASSERT_TRUE(changed.WaitFor(mutex, 10s, [&]() REQUIRES(mutex) { return threads.size() == 2; }));
    EXPECT_EQ(threads[1], threads[0]);
  }
  const auto joining_started = std::chrono::steady_clock::now();
  tasks.JoinAll();
  EXPECT_LT(std::chrono::steady_clock::now() - joining_started, kTaskThreadIdleTime);
}

// JoinAll waits for the tasks handed to waiting threads, and the group goes on after it.
TEST(TaskGroupTest, JoinAllWaitsForHandedOverTasksAndTheGroupGoesOn) {
  TaskGroup tasks(2);
  std::atomic<int> ran{0};
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 20; ++i) {
      while (!tasks.Spawn([&ran] { ran.fetch_add(1); })) std::this_thread::yield();
    }
    tasks.JoinAll();
    EXPECT_EQ(ran.load(), 20 * (round + 1));
  }
}

// A companion runs on a waiting thread of its group, or on its own when the group has no room
// or there is none; Join returns once it ended.
TEST(CompanionTaskTest, RunsOnAWaitingThreadOrItsOwnAndJoinWaitsForIt) {
  TaskGroup tasks(1);
  std::thread::id first;
  ASSERT_TRUE(tasks.Spawn([&first] { first = std::this_thread::get_id(); }));
  ASSERT_TRUE(tasks.WaitForWaitingThreads(1, std::chrono::steady_clock::now() + 10s));
  std::atomic<bool> ran{false};
  std::thread::id companion_thread;
  {
    Gate gate;
    CompanionTask companion(&tasks, [&] {
      companion_thread = std::this_thread::get_id();
      gate.Wait();
      ran.store(true);
    });
    // The group is full now: a second companion gets a thread of its own.
    std::atomic<bool> second_ran{false};
    CompanionTask second(&tasks, [&second_ran] { second_ran.store(true); });
    second.Join();
    EXPECT_TRUE(second_ran.load());
    gate.Open();
    companion.Join();
    EXPECT_TRUE(ran.load());
  }
  EXPECT_EQ(companion_thread, first) << "the waiting thread took it";
  CompanionTask alone(nullptr, [&ran] { ran.store(false); });
  alone.Join();
  EXPECT_FALSE(ran.load());
}

}  // namespace
}  // namespace tp
