#include "webui/event_hub.h"

#include <gtest/gtest.h>

#include <thread>

namespace tp::webui {
namespace {

using std::chrono::milliseconds;

TEST(EventHub, EverySubscriberGetsTheEventsAfterItSubscribedInOrder) {
  EventHub hub;
  hub.Publish("status", {{"before", true}});
  auto first = hub.Subscribe();
  auto second = hub.Subscribe();
  hub.Publish("progress", {{"line", "one"}});
  hub.Publish("progress", {{"line", "two"}});
  for (auto* subscription : {first.get(), second.get()}) {
    std::optional<ServerEvent> one = subscription->Next(milliseconds(0));
    ASSERT_TRUE(one);
    EXPECT_EQ(one->type, "progress");
    EXPECT_EQ(one->data, R"({"line":"one"})");
    std::optional<ServerEvent> two = subscription->Next(milliseconds(0));
    ASSERT_TRUE(two);
    EXPECT_EQ(two->data, R"({"line":"two"})");
    EXPECT_FALSE(subscription->Next(milliseconds(0)));
    EXPECT_FALSE(subscription->closed());
  }
}

TEST(EventHub, NextWaitsForAnEventFromAnotherThread) {
  EventHub hub;
  auto subscription = hub.Subscribe();
  std::thread publisher([&] {
    std::this_thread::sleep_for(milliseconds(20));
    hub.Publish("log", {{"line", "hello"}});
  });
  std::optional<ServerEvent> event = subscription->Next(milliseconds(5000));
  publisher.join();
  ASSERT_TRUE(event);
  EXPECT_EQ(event->type, "log");
}

TEST(EventHub, ANewSubscriberBeyondTheCapClosesTheOldest) {
  EventHub hub(/*max_subscribers=*/2);
  auto oldest = hub.Subscribe();
  auto middle = hub.Subscribe();
  auto newest = hub.Subscribe();
  EXPECT_TRUE(oldest->closed());
  EXPECT_FALSE(middle->closed());
  EXPECT_FALSE(newest->closed());
  EXPECT_FALSE(oldest->Next(milliseconds(1000)));  // closed: returns at once, no event
}

TEST(EventHub, ASubscriberTooFarBehindIsClosedNotGrown) {
  EventHub hub(/*max_subscribers=*/4, /*max_queued=*/3);
  auto slow = hub.Subscribe();
  for (int i = 0; i < 4; ++i) hub.Publish("log", {{"n", i}});
  EXPECT_TRUE(slow->closed());
  EXPECT_FALSE(slow->Next(milliseconds(0)));
  auto fresh = hub.Subscribe();
  hub.Publish("log", {{"n", 5}});
  EXPECT_TRUE(fresh->Next(milliseconds(0)));
}

TEST(EventHub, CloseAllEndsEveryStream) {
  EventHub hub;
  auto subscription = hub.Subscribe();
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    hub.CloseAll();
  });
  EXPECT_FALSE(subscription->Next(milliseconds(5000)));
  closer.join();
  EXPECT_TRUE(subscription->closed());
}

TEST(FormatServerEvent, IsTheSseWireForm) {
  EXPECT_EQ(FormatServerEvent({"status", R"({"a":1})"}), "event: status\ndata: {\"a\":1}\n\n");
}

}  // namespace
}  // namespace tp::webui
