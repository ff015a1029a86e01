#include "daemon/engagement_table.h"

#include <algorithm>
#include <array>

#include "api/engagement_mode.h"
#include "common/secret.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {
namespace {

using nlohmann::json;

constexpr int64_t kMaxPort = 65535;

// A JSON integer 1..65535.
std::optional<uint16_t> PortFromJson(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  const int64_t number = value.get<int64_t>();
  if (number < 1 || number > kMaxPort) return std::nullopt;
  return static_cast<uint16_t>(number);
}

// An array of ports; nullopt when it is not one.
std::optional<std::vector<uint16_t>> PortsFromJson(const json& value) {
  if (!value.is_array()) return std::nullopt;
  std::vector<uint16_t> ports;
  for (const json& item : value) {
    const std::optional<uint16_t> port = PortFromJson(item);
    if (!port) return std::nullopt;
    ports.push_back(*port);
  }
  return ports;
}

bool IsNonEmptyString(const json& body, const char* key) {
  return body.contains(key) && body[key].is_string() && !body[key].get<std::string>().empty();
}

bool TunnelDead(const std::weak_ptr<tunnel::TunnelConnection>& weak) {
  const std::shared_ptr<tunnel::TunnelConnection> tunnel = weak.lock();
  return !tunnel || tunnel->Dead();
}

}  // namespace

json Engagement::ToJson() const {
  json shown = answer;
  shown["sftp_port"] = sftp_forward_port;
  if (!handler) {
    shown["handler"] = nullptr;
    return shown;
  }
  shown["handler"] = api::HandlerBodyToJson(*handler);
  return shown;
}

std::optional<Engagement> EngagementFromAnswer(const json& answer, std::string& error) {
  if (!answer.is_object() || !IsNonEmptyString(answer, "id") ||
      !IsNonEmptyString(answer, "address")) {
    error = "the traffic-manager's engage answer lacks the engagement's id or the agent's address";
    return std::nullopt;
  }
  const std::optional<uint16_t> sftp_port =
      answer.contains("sftp_port") ? PortFromJson(answer["sftp_port"]) : std::nullopt;
  if (!sftp_port) {
    error = "the traffic-manager's engage answer lacks the agent's SFTP port";
    return std::nullopt;
  }
  std::string sftp_token;
  if (answer.contains("sftp_token")) {
    if (answer["sftp_token"].is_string()) sftp_token = answer["sftp_token"].get<std::string>();
    if (!IsSecretToken(sftp_token)) {
      error = "the traffic-manager's engage answer has a malformed SFTP token";
      return std::nullopt;
    }
  }
  std::optional<std::vector<uint16_t>> ports = std::vector<uint16_t>{};
  if (answer.contains("ports")) ports = PortsFromJson(answer["ports"]);
  if (!ports) {
    error = "the traffic-manager's engage answer has malformed ports";
    return std::nullopt;
  }
  Engagement engagement;
  engagement.id = answer["id"].get<std::string>();
  engagement.answer = answer;
  engagement.answer.erase("sftp_token");
  engagement.ports = std::move(*ports);
  engagement.agent_address = answer["address"].get<std::string>();
  engagement.agent_sftp_port = *sftp_port;
  engagement.agent_sftp_token = std::move(sftp_token);
  return engagement;
}

json ManagerEngageRequest(const api::EngageRequest& request) {
  json engage = {{"op", "engage"},
                 {"workload", request.workload},
                 {"mode", std::string(api::EngagementModeName(request.mode))},
                 {"ports", request.ports}};
  if (!request.name.empty()) engage["name"] = request.name;
  return engage;
}

bool EngagementTable::Add(Engagement engagement) {
  MutexLock lock(mutex_);
  const std::string id = engagement.id;
  return engagements_.emplace(id, std::move(engagement)).second;
}

std::optional<Engagement> EngagementTable::Find(const std::string& id) const {
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found == engagements_.end()) return std::nullopt;
  return found->second;
}

EngagementTable::SetHandlerResult EngagementTable::SetHandler(const std::string& id,
                                                              Handler handler, std::string& error) {
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found == engagements_.end()) {
    error = "no engagement " + id + " in this daemon";
    return SetHandlerResult::kUnknownId;
  }
  Engagement& engagement = found->second;
  if (engagement.handler) {
    error = "engagement " + id + " has a handler already (" + engagement.handler->address + ")";
    return SetHandlerResult::kHasHandler;
  }
  for (const auto& [workload_port, handler_port] : handler.ports) {
    if (std::ranges::find(engagement.ports, workload_port) == engagement.ports.end()) {
      error = "port " + std::to_string(workload_port) + " is not engaged by " + id;
      return SetHandlerResult::kPortNotEngaged;
    }
  }
  engagement.handler = std::move(handler);
  return SetHandlerResult::kSet;
}

void EngagementTable::ClearHandler(const std::string& id) {
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found != engagements_.end()) found->second.handler.reset();
}

std::optional<Engagement> EngagementTable::Remove(const std::string& id) {
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found == engagements_.end()) return std::nullopt;
  Engagement engagement = std::move(found->second);
  engagements_.erase(found);
  return engagement;
}

std::vector<Engagement> EngagementTable::RemoveAll() {
  MutexLock lock(mutex_);
  std::vector<Engagement> removed;
  for (auto& [id, engagement] : engagements_) removed.push_back(std::move(engagement));
  engagements_.clear();
  return removed;
}

std::vector<Engagement> EngagementTable::RemoveDead() {
  MutexLock lock(mutex_);
  std::vector<Engagement> removed;
  for (auto it = engagements_.begin(); it != engagements_.end();) {
    if (!TunnelDead(it->second.tunnel)) {
      ++it;
      continue;
    }
    removed.push_back(std::move(it->second));
    it = engagements_.erase(it);
  }
  return removed;
}

std::vector<Engagement> EngagementTable::All() const {
  MutexLock lock(mutex_);
  std::vector<Engagement> all;
  for (const auto& [id, engagement] : engagements_) all.push_back(engagement);
  return all;
}

size_t EngagementTable::Size() const {
  MutexLock lock(mutex_);
  return engagements_.size();
}

HandlerTarget EngagementTable::Lookup(std::string_view host, uint16_t port) const {
  if (!host.starts_with(kEngagementHostPrefix)) {
    return {"", 0, "the daemon takes streams for engagements only, not " + std::string(host)};
  }
  const std::string id(host.substr(kEngagementHostPrefix.size()));
  MutexLock lock(mutex_);
  const auto found = engagements_.find(id);
  if (found == engagements_.end()) return {"", 0, "no engagement " + id + " in this daemon"};
  const Engagement& engagement = found->second;
  if (std::ranges::find(engagement.ports, port) == engagement.ports.end()) {
    return {"", 0, "port " + std::to_string(port) + " is not engaged by " + id};
  }
  if (!engagement.handler) return {"", 0, "engagement " + id + " has no handler yet"};
  const auto mapped = engagement.handler->ports.find(port);
  const uint16_t handler_port = mapped == engagement.handler->ports.end() ? port : mapped->second;
  return {engagement.handler->address, handler_port, ""};
}

}  // namespace tp::daemon
