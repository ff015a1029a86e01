#include "teleroute/daemon_route_watcher.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/daemon_status.h"
#include "net/http_get.h"

namespace tp::teleroute {
namespace {

// The whole poll (connection and answer) of a daemon on the same host.
constexpr std::chrono::milliseconds kStatusTimeout{3000};

std::string Short(const std::string& id) { return id.substr(0, 12); }

std::optional<ClusterSubnets> SubnetsFromStatus(const std::string& body, std::string& error) {
  std::string problem;
  const std::optional<api::DaemonStatus> status = api::DaemonStatusFromJson(
      nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false), problem);
  if (!status) {
    error = "the daemon's status is not what this plugin reads: " + problem;
    return std::nullopt;
  }
  if (!status->connected) {
    error = "the daemon is not connected to the cluster";
    return std::nullopt;
  }
  ClusterSubnets subnets;
  for (const std::string& text : status->subnets) {
    try {
      const ClusterSubnets one = ParseClusterSubnets(text);
      if (one.ipv4.size() + one.ipv6.size() != 1) throw std::invalid_argument("not one subnet");
      subnets.ipv4.insert(subnets.ipv4.end(), one.ipv4.begin(), one.ipv4.end());
      subnets.ipv6.insert(subnets.ipv6.end(), one.ipv6.begin(), one.ipv6.end());
    } catch (const std::invalid_argument&) {
      error = "the daemon's status lists \"" + text + "\" as a subnet";
      return std::nullopt;
    }
  }
  Normalize(subnets);
  return subnets;
}

std::optional<ClusterSubnets> FetchFromControlApi(const DaemonFeed& feed, std::string& error) {
  return FetchDaemonSubnets(feed.daemon.ToString(), feed.control_port, error);
}

}  // namespace

std::optional<ClusterSubnets> FetchDaemonSubnets(const std::string& host, uint16_t port,
                                                 std::string& error) {
  const HttpGetResult result = HttpGet(host, port, "/status", kStatusTimeout);
  const std::string where = host + ":" + std::to_string(port);
  if (result.status == 0) {
    error = "the daemon's control API at " + where + " does not answer (" + result.error + ")";
    return std::nullopt;
  }
  if (result.status != 200) {
    error =
        "the daemon's control API at " + where + " answers status " + std::to_string(result.status);
    return std::nullopt;
  }
  return SubnetsFromStatus(result.body, error);
}

DaemonRouteWatcher::DaemonRouteWatcher(TelerouteDriver& driver, std::chrono::milliseconds interval,
                                       SubnetFetcher fetch)
    : driver_(driver), interval_(interval), fetch_(fetch ? std::move(fetch) : FetchFromControlApi) {
  thread_ = std::thread([this] { Run(); });
}

DaemonRouteWatcher::~DaemonRouteWatcher() {
  {
    MutexLock lock(stop_mutex_);
    stopping_ = true;
  }
  stop_changed_.NotifyAll();
  thread_.join();
}

void DaemonRouteWatcher::Run() {
  MutexLock lock(stop_mutex_);
  while (!stop_changed_.WaitFor(stop_mutex_, interval_,
                                [this]() REQUIRES(stop_mutex_) { return stopping_; })) {
    lock.Unlock();
    CheckNow();
    lock.Lock();
  }
}

int DaemonRouteWatcher::CheckNow() {
  MutexLock round(round_mutex_);
  int changed = 0;
  const std::vector<DaemonFeed> feeds = driver_.DaemonFeeds();
  {
    MutexLock lock(report_mutex_);
    std::erase_if(reported_, [&](const auto& entry) {
      return std::none_of(feeds.begin(), feeds.end(),
                          [&](const DaemonFeed& feed) { return feed.network_id == entry.first; });
    });
  }
  for (const DaemonFeed& feed : feeds) {
    std::string error;
    std::optional<ClusterSubnets> subnets = fetch_(feed, error);
    if (!subnets) {
      Report(feed.network_id, error);
      continue;
    }
    try {
      if (driver_.Subnets(feed.network_id) == *subnets) {
        Report(feed.network_id, "");
        continue;
      }
      const std::vector<std::string> problems = driver_.UpdateRoutes(feed.network_id, *subnets);
      ++changed;
      Report(feed.network_id, problems.empty() ? "" : problems.front());
    } catch (const std::exception& failure) {
      // The network was deleted meanwhile, or its state could not be saved.
      Report(feed.network_id, failure.what());
    }
  }
  return changed;
}

void DaemonRouteWatcher::Report(const std::string& network_id, const std::string& problem) {
  {
    MutexLock lock(report_mutex_);
    std::string& last = reported_[network_id];
    if (last == problem) return;
    last = problem;
  }
  if (problem.empty()) {
    spdlog::info("network {}: routes follow the daemon again", Short(network_id));
  } else {
    spdlog::warn("network {}: routes not updated: {}", Short(network_id), problem);
  }
}

}  // namespace tp::teleroute
