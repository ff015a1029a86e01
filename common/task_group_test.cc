#include "common/task_group.h"

#include <gtest/gtest.h>

#include <memory>

#include "sync/mutex.h"

namespace tp {
namespace {

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

}  // namespace
}  // namespace tp
