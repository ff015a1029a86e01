#include "daemon/cluster_capture.h"

#include <spdlog/spdlog.h>

#include "sync/mutex.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
// How often the watcher looks at the stop flag while it waits for subnet changes.
constexpr std::chrono::milliseconds kWatchSlice{200};

}  // namespace

ClusterCapture::ClusterCapture(TunnelClient& client, ClusterCaptureOptions options)
    : client_(client), options_(std::move(options)), thread_([this] { Run(); }) {}

ClusterCapture::~ClusterCapture() {
  stopping_ = true;
  thread_.join();
  client_.SetUdpReplyHandler(nullptr);
  MutexLock lock(mutex_);
  capture_.reset();  // nothing new is captured from here on
  proxy_.reset();
}

api::CaptureStatus ClusterCapture::Status() const {
  MutexLock lock(mutex_);
  api::CaptureStatus status;
  status.enabled = true;
  status.active = capture_ != nullptr;
  status.port = proxy_ ? proxy_->Port() : options_.proxy.port;
  if (capture_) status.subnets = capture_->Subnets();
  status.error = error_;
  return status;
}

TransparentProxyCounters ClusterCapture::Counters() const {
  MutexLock lock(mutex_);
  return proxy_ ? proxy_->Counters() : TransparentProxyCounters{};
}

void ClusterCapture::Run() {
  std::optional<std::vector<std::string>> known;
  bool installed = false;
  while (!stopping_) {
    const auto subnets = client_.WaitForSubnets(known, Clock::now() + kWatchSlice);
    if (!subnets || subnets == known) continue;
    known = subnets;
    if (installed) {
      Update(*subnets);
      continue;
    }
    if (!Install(*subnets)) return;
    installed = true;
  }
}

bool ClusterCapture::Install(const std::vector<std::string>& subnets) {
  std::string error;
  std::unique_ptr<TransparentProxy> proxy = TransparentProxy::Start(
      options_.proxy, [this] { return client_.Current(); }, error);
  std::unique_ptr<TrafficCapture> capture;
  if (proxy) {
    TrafficCaptureOptions capture_options = options_.capture;
    capture_options.port = proxy->Port();
    capture = TrafficCapture::Install(capture_options, subnets, error);
  }
  if (!capture) {
    error = "cannot capture cluster traffic: " + error;
    spdlog::error("{}", error);
    SetError(error);
    if (options_.on_failure) options_.on_failure(error);
    return false;
  }
  TransparentProxy* raw_proxy = proxy.get();
  client_.SetUdpReplyHandler([raw_proxy](uint32_t flow_id, const tunnel::UdpReply& reply) {
    raw_proxy->DeliverUdpReply(flow_id, reply);
  });
  MutexLock lock(mutex_);
  proxy_ = std::move(proxy);
  capture_ = std::move(capture);
  return true;
}

void ClusterCapture::Update(const std::vector<std::string>& subnets) {
  TrafficCapture* capture = nullptr;
  {
    MutexLock lock(mutex_);
    capture = capture_.get();  // only the destructor, after joining this thread, resets it
  }
  std::string error;
  if (capture->UpdateSubnets(subnets, error)) {
    SetError("");
    return;
  }
  spdlog::error("capture: {}", error);
  SetError(error);
}

void ClusterCapture::SetError(const std::string& error) {
  MutexLock lock(mutex_);
  error_ = error;
}

}  // namespace tp::daemon
