#include "teleroute/network_table.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/atomic_file.h"

namespace tp::teleroute {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

json SubnetsToJson(const ClusterSubnets& subnets) {
  json list = json::array();
  for (const Ipv4Prefix& prefix : subnets.ipv4) list.push_back(prefix.ToString());
  for (const Ipv6Prefix& prefix : subnets.ipv6) list.push_back(prefix.ToString());
  return list;
}

ClusterSubnets SubnetsFromJson(const json& list) {
  std::string joined;
  for (const json& item : list) joined += item.get<std::string>() + ",";
  return ParseClusterSubnets(joined);
}

json Ipv6SettingsToJson(const std::optional<Ipv6Settings>& settings) {
  if (!settings) return nullptr;
  return {{"pool", settings->pool.ToString()},
          {"gateway", settings->gateway.ToString()},
          {"daemon", settings->daemon.ToString()}};
}

std::optional<Ipv6Settings> Ipv6SettingsFromJson(const json& entry) {
  if (entry.is_null()) return std::nullopt;
  const std::optional<Ipv6Prefix> pool = ParseIpv6Prefix(entry.at("pool").get<std::string>());
  const std::optional<Ipv6Prefix> gateway = ParseIpv6Prefix(entry.at("gateway").get<std::string>());
  const std::optional<Ipv6Address> daemon = ParseIpv6Address(entry.at("daemon").get<std::string>());
  if (!pool || !gateway || !daemon) throw std::runtime_error("bad saved IPv6 settings");
  return Ipv6Settings{*pool, *gateway, *daemon};
}

// Elements of `a` that are not in `b`; both sorted.
template <typename Prefix>
std::vector<Prefix> Difference(const std::vector<Prefix>& a, const std::vector<Prefix>& b) {
  std::vector<Prefix> result;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(result));
  return result;
}

ClusterSubnets Difference(const ClusterSubnets& a, const ClusterSubnets& b) {
  return {Difference(a.ipv4, b.ipv4), Difference(a.ipv6, b.ipv6)};
}

}  // namespace

NetworkTable::NetworkTable(std::string state_file) : state_file_(std::move(state_file)) { Load(); }

NetworkRecord NetworkTable::Network(const std::string& network_id) const {
  MutexLock lock(mutex_);
  return NetworkLocked(network_id);
}

std::optional<NetworkRecord> NetworkTable::FindNetwork(const std::string& network_id) const {
  MutexLock lock(mutex_);
  auto it = networks_.find(network_id);
  if (it == networks_.end()) return std::nullopt;
  return it->second;
}

EndpointRecord NetworkTable::Endpoint(const std::string& network_id,
                                      const std::string& endpoint_id) const {
  MutexLock lock(mutex_);
  return EndpointLocked(network_id, endpoint_id);
}

std::optional<EndpointRecord> NetworkTable::FindEndpoint(const std::string& endpoint_id) const {
  MutexLock lock(mutex_);
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end()) return std::nullopt;
  return it->second;
}

bool NetworkTable::BridgeInUse(const std::string& bridge) const {
  MutexLock lock(mutex_);
  return std::any_of(networks_.begin(), networks_.end(),
                     [&](const auto& entry) { return entry.second.settings.bridge == bridge; });
}

std::vector<std::string> NetworkTable::HostLinks(const std::string& network_id) const {
  MutexLock lock(mutex_);
  std::vector<std::string> links;
  for (const auto& [id, endpoint] : endpoints_) {
    if (endpoint.network_id == network_id) links.push_back(endpoint.host_link);
  }
  return links;
}

std::vector<DaemonFeed> NetworkTable::DaemonFeeds() const {
  MutexLock lock(mutex_);
  std::vector<DaemonFeed> feeds;
  for (const auto& [id, network] : networks_) {
    feeds.push_back({id, network.settings.daemon, network.settings.control_port});
  }
  return feeds;
}

std::pair<std::map<std::string, NetworkRecord>, std::map<std::string, EndpointRecord>>
NetworkTable::Snapshot() const {
  MutexLock lock(mutex_);
  return {networks_, endpoints_};
}

void NetworkTable::AddNetwork(const std::string& network_id, const NetworkRecord& network) {
  {
    MutexLock lock(mutex_);
    networks_[network_id] = network;
  }
  try {
    Persist();
  } catch (...) {
    MutexLock lock(mutex_);
    networks_.erase(network_id);
    throw;
  }
}

void NetworkTable::RemoveNetwork(const std::string& network_id) {
  {
    MutexLock lock(mutex_);
    std::erase_if(endpoints_,
                  [&](const auto& entry) { return entry.second.network_id == network_id; });
    networks_.erase(network_id);
  }
  Persist();  // a failure leaves the network gone from memory: its links are gone already
}

void NetworkTable::AddEndpoint(const std::string& endpoint_id, const EndpointRecord& endpoint) {
  {
    MutexLock lock(mutex_);
    endpoints_[endpoint_id] = endpoint;
  }
  try {
    Persist();
  } catch (...) {
    MutexLock lock(mutex_);
    endpoints_.erase(endpoint_id);
    throw;
  }
}

void NetworkTable::RemoveEndpoint(const std::string& endpoint_id) {
  {
    MutexLock lock(mutex_);
    endpoints_.erase(endpoint_id);
  }
  Persist();  // as RemoveNetwork
}

std::pair<EndpointRecord, NetworkRecord> NetworkTable::SetSandbox(const std::string& network_id,
                                                                  const std::string& endpoint_id,
                                                                  const std::string& sandbox_key) {
  std::string previous;
  std::pair<EndpointRecord, NetworkRecord> result;
  {
    MutexLock lock(mutex_);
    EndpointLocked(network_id, endpoint_id);  // throws for an unknown endpoint
    EndpointRecord& endpoint = endpoints_.at(endpoint_id);
    previous = endpoint.sandbox_key;
    endpoint.sandbox_key = sandbox_key;
    result = {endpoint, NetworkLocked(network_id)};
  }
  try {
    Persist();
  } catch (...) {
    MutexLock lock(mutex_);
    auto it = endpoints_.find(endpoint_id);
    if (it != endpoints_.end() && it->second.sandbox_key == sandbox_key) {
      it->second.sandbox_key = previous;
    }
    throw;
  }
  return result;
}

SubnetChange NetworkTable::ReplaceSubnets(const std::string& network_id,
                                          const ClusterSubnets& subnets) {
  SubnetChange change;
  ClusterSubnets previous;
  {
    MutexLock lock(mutex_);
    NetworkLocked(network_id);  // throws for an unknown network
    NetworkRecord& network = networks_.at(network_id);
    change.added = Difference(subnets, network.subnets);
    change.removed = Difference(network.subnets, subnets);
    previous = network.subnets;
    network.subnets = subnets;
    change.daemon = network.settings.daemon;
    if (network.settings.ipv6) change.daemon6 = network.settings.ipv6->daemon;
    for (const auto& [id, endpoint] : endpoints_) {
      if (endpoint.network_id != network_id || endpoint.sandbox_key.empty()) continue;
      if (endpoint.address.address == change.daemon) continue;
      change.sandboxes.emplace_back(id, endpoint.sandbox_key);
    }
  }
  try {
    Persist();
  } catch (...) {
    MutexLock lock(mutex_);
    auto it = networks_.find(network_id);
    if (it != networks_.end() && it->second.subnets == subnets) it->second.subnets = previous;
    throw;
  }
  return change;
}

const NetworkRecord& NetworkTable::NetworkLocked(const std::string& network_id) const {
  auto it = networks_.find(network_id);
  if (it == networks_.end()) {
    throw std::runtime_error("no such teleroute network " + ShortId(network_id));
  }
  return it->second;
}

const EndpointRecord& NetworkTable::EndpointLocked(const std::string& network_id,
                                                   const std::string& endpoint_id) const {
  NetworkLocked(network_id);
  auto it = endpoints_.find(endpoint_id);
  if (it == endpoints_.end() || it->second.network_id != network_id) {
    throw std::runtime_error("no such endpoint " + ShortId(endpoint_id) + " on teleroute network " +
                             ShortId(network_id));
  }
  return it->second;
}

void NetworkTable::Load() {
  std::optional<std::string> text = ReadWholeFile(state_file_);
  if (!text) return;  // first start
  try {
    const json state = json::parse(*text);
    std::map<std::string, NetworkRecord> networks;
    std::map<std::string, EndpointRecord> endpoints;
    for (const json& entry : state.at("networks")) {
      NetworkRecord network;
      network.settings.bridge = entry.at("bridge").get<std::string>();
      network.settings.pool = RequirePrefix(entry.at("pool").get<std::string>(), "saved pool");
      network.settings.gateway =
          RequirePrefix(entry.at("gateway").get<std::string>(), "saved gateway");
      network.settings.daemon =
          ParseIpv4Address(entry.at("daemon").get<std::string>()).value_or(Ipv4Address{});
      network.settings.ipv6 = Ipv6SettingsFromJson(entry.value("ipv6", json()));
      network.settings.configured_subnets = SubnetsFromJson(entry.at("configured_subnets"));
      network.settings.control_port = entry.value("control_port", kDefaultControlPort);
      network.options = entry.at("options").get<std::map<std::string, std::string>>();
      network.subnets = SubnetsFromJson(entry.at("subnets"));
      networks[entry.at("id").get<std::string>()] = network;
    }
    for (const json& entry : state.at("endpoints")) {
      endpoints[entry.at("id").get<std::string>()] = EndpointRecord{
          entry.at("network_id").get<std::string>(),
          RequirePrefix(entry.at("address").get<std::string>(), "saved address"),
          entry.at("host_link").get<std::string>(),
          entry.at("container_link").get<std::string>(),
          entry.at("sandbox_key").get<std::string>(),
      };
    }
    spdlog::info("loaded {} network(s) and {} endpoint(s) from {}", networks.size(),
                 endpoints.size(), state_file_);
    MutexLock lock(mutex_);
    networks_ = std::move(networks);
    endpoints_ = std::move(endpoints);
  } catch (const std::exception& error) {
    const std::string aside = state_file_ + ".corrupt";
    spdlog::error("{} is unreadable ({}); moved to {}, starting with no networks", state_file_,
                  error.what(), aside);
    std::error_code ignored;
    fs::rename(state_file_, aside, ignored);
  }
}

std::string NetworkTable::StateTextLocked() const {
  json networks = json::array();
  for (const auto& [id, network] : networks_) {
    const NetworkSettings& settings = network.settings;
    networks.push_back({{"id", id},
                        {"bridge", settings.bridge},
                        {"pool", settings.pool.ToString()},
                        {"gateway", settings.gateway.ToString()},
                        {"daemon", settings.daemon.ToString()},
                        {"ipv6", Ipv6SettingsToJson(settings.ipv6)},
                        {"control_port", settings.control_port},
                        {"configured_subnets", SubnetsToJson(settings.configured_subnets)},
                        {"options", network.options},
                        {"subnets", SubnetsToJson(network.subnets)}});
  }
  json endpoints = json::array();
  for (const auto& [id, endpoint] : endpoints_) {
    endpoints.push_back({{"id", id},
                         {"network_id", endpoint.network_id},
                         {"address", endpoint.address.ToString()},
                         {"host_link", endpoint.host_link},
                         {"container_link", endpoint.container_link},
                         {"sandbox_key", endpoint.sandbox_key}});
  }
  const json state = {{"version", 1}, {"networks", networks}, {"endpoints", endpoints}};
  return state.dump(2) + "\n";
}

void NetworkTable::Persist() const {
  MutexLock write(write_mutex_);
  std::string text;
  {
    MutexLock lock(mutex_);
    text = StateTextLocked();
  }
  WriteFileAtomically(state_file_, text);
}

}  // namespace tp::teleroute
