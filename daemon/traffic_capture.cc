#include "daemon/traffic_capture.h"

#include <spdlog/spdlog.h>

#include "sync/mutex.h"

namespace tp::daemon {
namespace {

std::vector<Ipv4Prefix> SelectLogged(const std::vector<std::string>& cidrs) {
  CaptureSubnets selected = SelectCaptureSubnets(cidrs);
  for (const std::string& skipped : selected.skipped) {
    spdlog::warn("capture: leaving out subnet {}", skipped);
  }
  return std::move(selected.networks);
}

std::string SubnetsText(const std::vector<Ipv4Prefix>& networks) {
  if (networks.empty()) return "(no subnet)";
  return fmt::format("{}", fmt::join(PrefixTexts(networks), " "));
}

}  // namespace

std::unique_ptr<TrafficCapture> TrafficCapture::Install(const TrafficCaptureOptions& options,
                                                        const std::vector<std::string>& cidrs,
                                                        std::string& error) {
  std::vector<Ipv4Prefix> networks = SelectLogged(cidrs);
  std::unique_ptr<PolicyRouting> routing =
      PolicyRouting::Install({options.mark, options.routing_table, options.rule_priority}, error);
  if (!routing) return nullptr;
  std::unique_ptr<CaptureTable> table =
      CaptureTable::Install({options.table_name, options.port, options.mark}, networks, error);
  if (!table) return nullptr;
  spdlog::info("capture: TCP and UDP to {} go to port {}", SubnetsText(networks), options.port);
  return std::unique_ptr<TrafficCapture>(
      new TrafficCapture(options.port, std::move(routing), std::move(table), std::move(networks)));
}

TrafficCapture::TrafficCapture(uint16_t port, std::unique_ptr<PolicyRouting> routing,
                               std::unique_ptr<CaptureTable> table,
                               std::vector<Ipv4Prefix> networks)
    : port_(port),
      routing_(std::move(routing)),
      table_(std::move(table)),
      networks_(std::move(networks)) {}

TrafficCapture::~TrafficCapture() { spdlog::info("capture: removing the table, rule and route"); }

bool TrafficCapture::UpdateSubnets(const std::vector<std::string>& cidrs, std::string& error) {
  std::vector<Ipv4Prefix> networks = SelectLogged(cidrs);
  MutexLock lock(mutex_);
  if (networks == networks_) return true;
  if (!table_->ReplaceSubnets(networks, error)) return false;
  networks_ = std::move(networks);
  spdlog::info("capture: subnets now {}", SubnetsText(networks_));
  return true;
}

std::vector<std::string> TrafficCapture::Subnets() const {
  MutexLock lock(mutex_);
  return PrefixTexts(networks_);
}

}  // namespace tp::daemon
