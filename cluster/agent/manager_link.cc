#include "cluster/agent/manager_link.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::agent {
namespace {

using Clock = std::chrono::steady_clock;

std::string DescribeEngagement(const std::optional<Engagement>& engagement) {
  if (!engagement) return "none";
  std::string ports;
  for (const uint16_t port : engagement->ports) {
    ports += (ports.empty() ? "" : ",") + std::to_string(port);
  }
  return engagement->id + " (" + std::string(api::EngagementModeName(engagement->mode)) +
         ", ports " + (ports.empty() ? "none" : ports) + ")";
}

}  // namespace

ManagerLink::ManagerLink(ManagerLinkOptions options)
    : options_(std::move(options)),
      manager_address_(options_.manager_host + ":" + std::to_string(options_.manager_port)),
      thread_([this] { Run(); }) {}

ManagerLink::~ManagerLink() {
  std::shared_ptr<tunnel::TunnelConnection> current;
  {
    MutexLock lock(mutex_);
    stopping_ = true;
    current = current_ ? current_ : connecting_;
  }
  changed_.NotifyAll();
  if (current) current->Close("the agent is stopping");
  thread_.join();
}

std::shared_ptr<tunnel::TunnelConnection> ManagerLink::Current() const {
  MutexLock lock(mutex_);
  return current_;
}

std::optional<Engagement> ManagerLink::CurrentEngagement() const {
  MutexLock lock(mutex_);
  return engagement_;
}

bool ManagerLink::WaitUntilRegistered(tunnel::Deadline deadline) const {
  MutexLock lock(mutex_);
  return changed_.WaitUntil(mutex_, deadline,
                            [this]() REQUIRES(mutex_) { return current_ != nullptr; });
}

std::optional<Engagement> ManagerLink::WaitForEngagement(const std::optional<Engagement>& known,
                                                         tunnel::Deadline deadline) const {
  MutexLock lock(mutex_);
  changed_.WaitUntil(mutex_, deadline,
                     [&]() REQUIRES(mutex_) { return engagement_ != known || stopping_; });
  return engagement_;
}

void ManagerLink::Run() {
  std::chrono::milliseconds backoff = options_.initial_backoff;
  while (true) {
    std::shared_ptr<tunnel::TunnelConnection> connection = Connect();
    if (connection) {
      backoff = options_.initial_backoff;
      Watch(*connection);
      {
        MutexLock lock(mutex_);
        if (current_ == connection) current_.reset();
      }
      SetEngagement(std::nullopt);
      if (!connection->Dead()) connection->Close("the agent is stopping");
      LogError("tunnel lost: " + connection->FailureReason());
      connection.reset();  // joins its threads, no lock held
    }
    if (!SleepUnlessStopping(backoff)) return;
    if (!connection) backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

std::shared_ptr<tunnel::TunnelConnection> ManagerLink::Connect() {
  DialResult dial =
      DialTcp(options_.manager_host, options_.manager_port, Clock::now() + options_.dial_timeout);
  if (!dial.socket.Valid()) {
    LogError("cannot reach the traffic-manager: " + dial.message);
    return nullptr;
  }
  const tunnel::Hello hello{tunnel::kProtocolVersion, "agent/" + options_.registration.workload,
                            options_.secret};
  tunnel::ClientHandshakeResult handshake =
      tunnel::ClientHandshake(dial.socket.Get(), hello, Clock::now() + options_.dial_timeout);
  if (!handshake.welcome) {
    LogError(handshake.refused ? "the traffic-manager refused us: " + handshake.error
                               : "handshake failed: " + handshake.error);
    return nullptr;
  }
  tunnel::ConnectionOptions connection_options;
  connection_options.name = "agent/" + options_.registration.workload;
  std::shared_ptr<tunnel::TunnelConnection> connection = tunnel::TunnelConnection::Start(
      std::move(dial.socket), tunnel::Role::kClient, {}, connection_options);
  {
    MutexLock lock(mutex_);
    if (stopping_) return nullptr;
    connecting_ = connection;  // so that the destructor can close it during register
  }
  const tunnel::CallResult registered = connection->Call(RegisterRequest(options_.registration),
                                                         Clock::now() + options_.call_timeout);
  if (registered.error != 0) {
    LogError("register failed: " + ReplyErrorText(registered.body) + " (error " +
             std::to_string(registered.error) + ")");
    MutexLock lock(mutex_);
    connecting_.reset();
    return nullptr;
  }
  {
    MutexLock lock(mutex_);
    connecting_.reset();
    if (stopping_) return nullptr;
    current_ = connection;
    last_error_.clear();
  }
  changed_.NotifyAll();
  spdlog::info("registered with the traffic-manager at {} as agent/{}", manager_address_,
               options_.registration.workload);
  return connection;
}

void ManagerLink::Watch(tunnel::TunnelConnection& connection) {
  uint64_t version = 0;
  while (!connection.Dead()) {
    {
      MutexLock lock(mutex_);
      if (stopping_) return;
    }
    const tunnel::CallResult answer =
        connection.Call(WatchRequest(version), Clock::now() + options_.watch_timeout);
    if (answer.error == ETIMEDOUT) continue;
    if (answer.error != 0) {
      if (!connection.Dead()) {
        LogError("watch failed: " + ReplyErrorText(answer.body));
        connection.Close("watch failed");
      }
      return;
    }
    std::string error;
    const std::optional<WatchAnswer> watched = ParseWatchAnswer(answer.body, error);
    if (!watched) {
      LogError(error);
      connection.Close("the manager's watch answer is malformed");
      return;
    }
    version = watched->version;
    SetEngagement(watched->engagement);
  }
}

void ManagerLink::SetEngagement(std::optional<Engagement> engagement) {
  {
    MutexLock lock(mutex_);
    if (engagement_ == engagement) return;
    engagement_ = engagement;
  }
  changed_.NotifyAll();
  spdlog::info("engagement: {}", DescribeEngagement(engagement));
}

bool ManagerLink::SleepUnlessStopping(std::chrono::milliseconds duration) {
  MutexLock lock(mutex_);
  return !changed_.WaitFor(mutex_, duration, [this]() REQUIRES(mutex_) { return stopping_; });
}

void ManagerLink::LogError(const std::string& error) {
  {
    MutexLock lock(mutex_);
    if (stopping_ || last_error_ == error) return;  // log each new reason once
    last_error_ = error;
  }
  spdlog::warn("traffic-manager {}: {}", manager_address_, error);
}

}  // namespace tp::agent
