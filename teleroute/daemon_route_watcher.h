// DaemonRouteWatcher keeps the routes of each Teleroute network in step with its daemon, so that
// containers already running get the cluster's new subnets (and lose the ones it dropped): every
// `interval` it asks each network's daemon for its subnets and, when the daemon is connected and
// they differ from the network's, hands them to TelerouteDriver::UpdateRoutes. A daemon that
// does not answer changes nothing: its containers keep the routes they have. Problems are logged
// when they start and when they end, not at every round. One thread, from construction to
// destruction.
//
// Thread-safe. round_mutex_ is an operation lock held for a whole round (across the HTTP
// requests and the driver's route changes, on purpose: rounds must not interleave); the state
// (what was reported, whether to stop) has its own locks, never held across I/O.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/ipv4.h"
#include "sync/mutex.h"
#include "teleroute/teleroute_driver.h"

namespace tp::teleroute {

// Asks the daemon's control API (GET http://HOST:PORT/status, as daemon/control_api.h serves
// it) for the cluster subnets of both families. nullopt with `error` set when it does not answer
// within a second or two, is not connected to the cluster, or answers something else than its
// status.
std::optional<ClusterSubnets> FetchDaemonSubnets(const std::string& host, uint16_t port,
                                                 std::string& error);

class DaemonRouteWatcher {
 public:
  using SubnetFetcher =
      std::function<std::optional<ClusterSubnets>(const DaemonFeed&, std::string& error)>;

  // The default fetcher asks FetchDaemonSubnets at the feed's daemon address and control port.
  DaemonRouteWatcher(TelerouteDriver& driver, std::chrono::milliseconds interval,
                     SubnetFetcher fetch = {});
  ~DaemonRouteWatcher();
  DaemonRouteWatcher(const DaemonRouteWatcher&) = delete;
  DaemonRouteWatcher& operator=(const DaemonRouteWatcher&) = delete;

  // One round over every network, in the calling thread. Returns how many networks changed.
  int CheckNow() EXCLUDES(round_mutex_);

 private:
  void Run();
  // Logs `problem` for the network when it differs from the last one logged ("" = all well).
  void Report(const std::string& network_id, const std::string& problem) EXCLUDES(report_mutex_);

  TelerouteDriver& driver_;
  const std::chrono::milliseconds interval_;
  const SubnetFetcher fetch_;

  Mutex round_mutex_;  // operation lock: one round at a time

  Mutex report_mutex_;
  std::map<std::string, std::string> reported_ GUARDED_BY(report_mutex_);  // by network id

  Mutex stop_mutex_;
  CondVar stop_changed_;
  bool stopping_ GUARDED_BY(stop_mutex_) = false;
  std::thread thread_;
};

}  // namespace tp::teleroute
