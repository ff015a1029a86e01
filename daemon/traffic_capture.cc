#include "daemon/traffic_capture.h"

#include <spdlog/spdlog.h>

#include "sync/mutex.h"

namespace tp::daemon {
namespace {

CaptureSubnets SelectLogged(const std::vector<std::string>& cidrs) {
  CaptureSubnets selected = SelectCaptureSubnets(cidrs);
  for (const std::string& skipped : selected.skipped) {
    spdlog::warn("capture: leaving out subnet {}", skipped);
  }
  return selected;
}

std::vector<std::string> Texts(const std::vector<Ipv4Prefix>& networks,
                               const std::vector<Ipv6Prefix>& networks6) {
  std::vector<std::string> texts = PrefixTexts(networks);
  const std::vector<std::string> texts6 = PrefixTexts(networks6);
  texts.insert(texts.end(), texts6.begin(), texts6.end());
  return texts;
}

std::string SubnetsText(const std::vector<std::string>& texts) {
  if (texts.empty()) return "(no subnet)";
  return fmt::format("{}", fmt::join(texts, " "));
}

// Logs what it could not do: only this namespace's own connections need the fallback routes.
void ReplaceFallbackRoutes(FallbackRoutes& fallback, const std::vector<Ipv6Prefix>& networks) {
  std::string error;
  if (!fallback.Replace(networks, error)) spdlog::warn("capture: {}", error);
}

}  // namespace

TrafficCapture::Ipv6Half TrafficCapture::InstallIpv6(const TrafficCaptureOptions& options,
                                                     const std::vector<Ipv6Prefix>& networks) {
  std::string error;
  Ipv6Half half;
  half.routing = PolicyRouting::Install(
      {options.mark, options.routing_table, options.rule_priority, AF_INET6}, error);
  if (half.routing) {
    half.table = CaptureTable::Install(
        {NFPROTO_IPV6, options.table_name, options.port, options.mark}, networks, error);
  }
  if (!half.table) {
    spdlog::warn("capture: IPv6 is not captured here: {}", error);
    return {};
  }
  half.fallback = FallbackRoutes::Open(error);
  if (half.fallback) ReplaceFallbackRoutes(*half.fallback, networks);
  if (!half.fallback) spdlog::warn("capture: no IPv6 fallback routes: {}", error);
  return half;
}

std::unique_ptr<TrafficCapture> TrafficCapture::Install(const TrafficCaptureOptions& options,
                                                        const std::vector<std::string>& cidrs,
                                                        std::string& error) {
  CaptureSubnets networks = SelectLogged(cidrs);
  std::unique_ptr<PolicyRouting> routing =
      PolicyRouting::Install({options.mark, options.routing_table, options.rule_priority}, error);
  if (!routing) return nullptr;
  std::unique_ptr<CaptureTable> table = CaptureTable::Install(
      {NFPROTO_IPV4, options.table_name, options.port, options.mark}, networks.networks, error);
  if (!table) return nullptr;
  Ipv6Half ipv6 = InstallIpv6(options, networks.networks6);
  if (!ipv6.table) networks.networks6.clear();
  spdlog::info("capture: TCP and UDP to {} go to port {}",
               SubnetsText(Texts(networks.networks, networks.networks6)), options.port);
  return std::unique_ptr<TrafficCapture>(new TrafficCapture(
      options.port, std::move(routing), std::move(table), std::move(ipv6), std::move(networks)));
}

TrafficCapture::TrafficCapture(uint16_t port, std::unique_ptr<PolicyRouting> routing,
                               std::unique_ptr<CaptureTable> table, Ipv6Half ipv6,
                               CaptureSubnets networks)
    : port_(port),
      routing_(std::move(routing)),
      table_(std::move(table)),
      ipv6_(std::move(ipv6)),
      networks_(std::move(networks.networks)),
      networks6_(std::move(networks.networks6)) {}

TrafficCapture::~TrafficCapture() {
  spdlog::info("capture: removing the tables, rules and routes");
}

bool TrafficCapture::UpdateSubnets(const std::vector<std::string>& cidrs, std::string& error) {
  CaptureSubnets networks = SelectLogged(cidrs);
  if (!ipv6_.table) networks.networks6.clear();
  MutexLock lock(mutex_);
  if (networks.networks == networks_ && networks.networks6 == networks6_) return true;
  if (!table_->ReplaceSubnets(networks.networks, error)) return false;
  networks_ = std::move(networks.networks);
  if (ipv6_.table && !ipv6_.table->ReplaceSubnets(networks.networks6, error)) return false;
  if (ipv6_.fallback) ReplaceFallbackRoutes(*ipv6_.fallback, networks.networks6);
  networks6_ = std::move(networks.networks6);
  spdlog::info("capture: subnets now {}", SubnetsText(Texts(networks_, networks6_)));
  return true;
}

std::vector<std::string> TrafficCapture::Subnets() const {
  MutexLock lock(mutex_);
  return Texts(networks_, networks6_);
}

}  // namespace tp::daemon
