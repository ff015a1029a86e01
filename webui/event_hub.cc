#include "webui/event_hub.h"

#include <algorithm>

namespace tp::webui {

std::string FormatServerEvent(const ServerEvent& event) {
  return "event: " + event.type + "\ndata: " + event.data + "\n\n";
}

std::optional<ServerEvent> EventSubscription::Next(std::chrono::milliseconds timeout) {
  MutexLock lock(mutex_);
  changed_.WaitFor(mutex_, timeout,
                   [this]() REQUIRES(mutex_) { return closed_ || !queue_.empty(); });
  if (closed_ || queue_.empty()) return std::nullopt;
  ServerEvent event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

bool EventSubscription::closed() const {
  MutexLock lock(mutex_);
  return closed_;
}

void EventSubscription::Push(const ServerEvent& event) {
  MutexLock lock(mutex_);
  if (closed_) return;
  if (queue_.size() >= max_queued_) {
    closed_ = true;  // too far behind: its page reconnects and reads the state afresh
    queue_.clear();
  } else {
    queue_.push_back(event);
  }
  changed_.NotifyAll();
}

void EventSubscription::Close() {
  MutexLock lock(mutex_);
  closed_ = true;
  changed_.NotifyAll();
}

EventHub::EventHub(size_t max_subscribers, size_t max_queued)
    : max_subscribers_(std::max<size_t>(1, max_subscribers)), max_queued_(max_queued) {}

EventHub::~EventHub() { CloseAll(); }

void EventHub::Publish(const std::string& type, const nlohmann::json& data) {
  const ServerEvent event{type,
                          data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
  std::vector<std::shared_ptr<EventSubscription>> subscriptions;
  {
    MutexLock lock(mutex_);
    std::erase_if(subscriptions_, [](const auto& subscription) { return subscription->closed(); });
    subscriptions = subscriptions_;
  }
  for (const auto& subscription : subscriptions) subscription->Push(event);
}

std::shared_ptr<EventSubscription> EventHub::Subscribe() {
  std::shared_ptr<EventSubscription> oldest;
  auto subscription = std::shared_ptr<EventSubscription>(new EventSubscription(max_queued_));
  {
    MutexLock lock(mutex_);
    std::erase_if(subscriptions_, [](const auto& open) { return open->closed(); });
    if (subscriptions_.size() >= max_subscribers_) {
      oldest = subscriptions_.front();
      subscriptions_.erase(subscriptions_.begin());
    }
    subscriptions_.push_back(subscription);
  }
  if (oldest) oldest->Close();
  return subscription;
}

void EventHub::CloseAll() {
  std::vector<std::shared_ptr<EventSubscription>> subscriptions;
  {
    MutexLock lock(mutex_);
    subscriptions.swap(subscriptions_);
  }
  for (const auto& subscription : subscriptions) subscription->Close();
}

}  // namespace tp::webui
