// EventHub: the fan-out of the UI's server-sent events (docs/ui.md, GET /api/events). Publishers
// (actions, the Docker watch, log followers) call Publish from any thread; each open event stream
// holds an EventSubscription and takes the events published after it subscribed, in order.
//
// Caps (peer-driven resources): at most `max_subscribers` subscriptions are open at once (a new
// one closes the oldest); a subscription that falls `max_queued` events behind is closed (its page
// reconnects and reads the state afresh) instead of growing without bound.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sync/mutex.h"

namespace tp::webui {

struct ServerEvent {
  std::string type;  // the SSE event name: "status", "progress", "engagement", "log"
  std::string data;  // one line of JSON
};

// The SSE wire form of one event: "event: TYPE\ndata: DATA\n\n".
std::string FormatServerEvent(const ServerEvent& event);

class EventSubscription {
 public:
  // The next event, waiting up to `timeout`; nullopt when none came or the subscription is
  // closed (closed() tells which).
  std::optional<ServerEvent> Next(std::chrono::milliseconds timeout) EXCLUDES(mutex_);
  bool closed() const EXCLUDES(mutex_);

 private:
  friend class EventHub;
  explicit EventSubscription(size_t max_queued) : max_queued_(max_queued) {}
  void Push(const ServerEvent& event) EXCLUDES(mutex_);
  void Close() EXCLUDES(mutex_);

  const size_t max_queued_;
  mutable Mutex mutex_;
  CondVar changed_;  // with mutex_: an event came or the subscription closed
  std::deque<ServerEvent> queue_ GUARDED_BY(mutex_);
  bool closed_ GUARDED_BY(mutex_) = false;
};

class EventHub {
 public:
  explicit EventHub(size_t max_subscribers = 4, size_t max_queued = 2000);
  ~EventHub();  // closes every subscription
  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  void Publish(const std::string& type, const nlohmann::json& data) EXCLUDES(mutex_);
  std::shared_ptr<EventSubscription> Subscribe() EXCLUDES(mutex_);
  // Closes every subscription (their streams end); later ones still work.
  void CloseAll() EXCLUDES(mutex_);

 private:
  const size_t max_subscribers_;
  const size_t max_queued_;
  Mutex mutex_;
  std::vector<std::shared_ptr<EventSubscription>> subscriptions_
      GUARDED_BY(mutex_);  // oldest first
};

}  // namespace tp::webui
