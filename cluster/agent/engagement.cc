#include "cluster/agent/engagement.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tp::agent {
namespace {

using nlohmann::json;

bool Engages(const Engagement& engagement, uint16_t port) {
  return std::find(engagement.ports.begin(), engagement.ports.end(), port) !=
         engagement.ports.end();
}

std::optional<Engagement> ParseEngagement(const json& value, std::string& error) {
  if (!value.is_object() || !value.contains("id") || !value["id"].is_string() ||
      !value.contains("mode") || !value["mode"].is_string()) {
    error = "an engagement needs a string id and mode";
    return std::nullopt;
  }
  Engagement engagement;
  engagement.id = value["id"].get<std::string>();
  const auto mode = api::ParseEngagementMode(value["mode"].get<std::string>());
  if (!mode) {
    error = "unknown engagement mode " + value["mode"].get<std::string>();
    return std::nullopt;
  }
  engagement.mode = *mode;
  const json ports = value.value("ports", json::array());
  if (!ports.is_array()) {
    error = "an engagement's ports must be a list";
    return std::nullopt;
  }
  for (const json& port : ports) {
    if (!port.is_number_unsigned() || port.get<uint64_t>() < 1 || port.get<uint64_t>() > 65535) {
      error = "an engagement's port must be from 1 to 65535";
      return std::nullopt;
    }
    engagement.ports.push_back(port.get<uint16_t>());
  }
  return engagement;
}

}  // namespace

ConnectionRoute RouteFor(const std::optional<Engagement>& engagement, uint16_t port) {
  if (!engagement || !Engages(*engagement, port)) return ConnectionRoute::kForward;
  switch (engagement->mode) {
    case EngagementMode::kReplace:
    case EngagementMode::kIntercept:
      return ConnectionRoute::kEngage;
    case EngagementMode::kWiretap:
      return ConnectionRoute::kWiretap;
    case EngagementMode::kIngest:
      break;
  }
  return ConnectionRoute::kForward;
}

std::string EngagementStreamHost(const Engagement& engagement) {
  return "engagement/" + engagement.id;
}

std::string RegisterRequest(const Registration& registration) {
  return json{{"op", "register"},
              {"workload", registration.workload},
              {"container", registration.container},
              {"address", registration.address},
              {"ports", registration.ports},
              {"sftp_port", registration.sftp_port},
              {"sftp_token", registration.sftp_token},
              {"env", registration.env},
              {"mounts", registration.mounts},
              {"mount_policies", api::MountPoliciesToJson(registration.mount_policies)}}
      .dump();
}

std::string WatchRequest(uint64_t version) {
  return json{{"op", "watch"}, {"version", version}}.dump();
}

std::optional<WatchAnswer> ParseWatchAnswer(const std::string& body, std::string& error) {
  const json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!value.is_object() || !value.contains("version") || !value["version"].is_number_unsigned()) {
    error = "a watch answer needs a version: " + body;
    return std::nullopt;
  }
  WatchAnswer answer;
  answer.version = value["version"].get<uint64_t>();
  if (value.contains("engagement") && !value["engagement"].is_null()) {
    answer.engagement = ParseEngagement(value["engagement"], error);
    if (!answer.engagement) return std::nullopt;
  }
  return answer;
}

std::string ReplyErrorText(const std::string& body) {
  const json value = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (value.is_object() && value.contains("error") && value["error"].is_string()) {
    return value["error"].get<std::string>();
  }
  return body;
}

}  // namespace tp::agent
