// ClusterCapture ties transparent capture to the tunnel client: once the client has its first
// Welcome, it starts the TransparentProxy (fed by the client's live tunnel and its UDP replies)
// and installs TrafficCapture for the Welcome's subnets in the network namespace of the thread
// that constructed it; later subnet changes (SubnetsChanged, or a new Welcome after a reconnect)
// update the capture. The destructor removes the capture, then stops the proxy. Thread-safe.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/daemon_status.h"
#include "daemon/traffic_capture.h"
#include "daemon/transparent_proxy.h"
#include "daemon/tunnel_client.h"
#include "sync/mutex.h"

namespace tp::daemon {

struct ClusterCaptureOptions {
  TransparentProxyOptions proxy;  // proxy.port is also the capture's port
  TrafficCaptureOptions capture;  // capture.port is ignored
  std::function<void(const std::string& error)> on_failure;  // capture could not be installed
};

class ClusterCapture {
 public:
  // `client` must outlive this object.
  ClusterCapture(TunnelClient& client, ClusterCaptureOptions options);
  ~ClusterCapture();
  ClusterCapture(const ClusterCapture&) = delete;
  ClusterCapture& operator=(const ClusterCapture&) = delete;

  api::CaptureStatus Status() const;
  // The proxy's counters (zeros before it started).
  TransparentProxyCounters Counters() const;

 private:
  void Run();
  bool Install(const std::vector<std::string>& subnets);
  void Update(const std::vector<std::string>& subnets);
  void SetError(const std::string& error);

  TunnelClient& client_;
  const ClusterCaptureOptions options_;
  std::atomic<bool> stopping_{false};
  mutable Mutex mutex_;
  std::unique_ptr<TransparentProxy> proxy_ GUARDED_BY(mutex_);  // set once
  std::unique_ptr<TrafficCapture> capture_ GUARDED_BY(mutex_);  // set once
  std::string error_ GUARDED_BY(mutex_);
  std::thread thread_;
};

}  // namespace tp::daemon
