#include "api/engagement.h"

#include <arpa/inet.h>

#include <charconv>

#include "api/json_fields.h"

namespace tp::api {
namespace {

using nlohmann::json;

std::string NotA(std::string_view field, std::string_view expected) {
  return "field '" + std::string(field) + "' is not " + std::string(expected);
}

// The field, or nullptr when it is absent or null.
const json* Find(const json& object, std::string_view field) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

// A JSON integer 1..65535.
std::optional<uint16_t> PortOf(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  const int64_t number = value.get<int64_t>();
  if (number < 1 || number > 65535) return std::nullopt;
  return static_cast<uint16_t>(number);
}

// Decimal text 1..65535 (a JSON object's key).
std::optional<uint16_t> PortOfText(std::string_view text) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number < 1 || number > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(number);
}

std::string ReadPorts(const json& object, std::string_view field, std::vector<uint16_t>& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  if (!value->is_array()) return NotA(field, "a list of ports (1..65535)");
  std::vector<uint16_t> ports;
  for (const json& item : *value) {
    const std::optional<uint16_t> port = PortOf(item);
    if (!port) return NotA(field, "a list of ports (1..65535)");
    ports.push_back(*port);
  }
  target = std::move(ports);
  return "";
}

std::string ReadPortMap(const json& object, std::string_view field,
                        std::map<uint16_t, uint16_t>& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  const std::string expected = "a map of workload ports to handler ports (1..65535)";
  if (!value->is_object()) return NotA(field, expected);
  std::map<uint16_t, uint16_t> ports;
  for (const auto& [key, item] : value->items()) {
    const std::optional<uint16_t> from = PortOfText(key);
    const std::optional<uint16_t> to = PortOf(item);
    if (!from || !to)
      return NotA(field, expected + "; \"" + key + "\": " + item.dump() + " is not");
    ports[*from] = *to;
  }
  target = std::move(ports);
  return "";
}

std::string ReadStringMap(const json& object, std::string_view field,
                          std::map<std::string, std::string>& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  if (!value->is_object()) return NotA(field, "a map of strings");
  std::map<std::string, std::string> strings;
  for (const auto& [key, item] : value->items()) {
    if (!item.is_string()) return NotA(field, "a map of strings");
    strings[key] = item.get<std::string>();
  }
  target = std::move(strings);
  return "";
}

std::string ReadMode(const json& object, EngagementMode& target) {
  std::string text;
  if (std::string problem = ReadString(object, "mode", text); !problem.empty()) return problem;
  const std::optional<EngagementMode> mode = ParseEngagementMode(text);
  if (!mode) return NotA("mode", "one of " + EngagementModeNames());
  target = *mode;
  return "";
}

bool IsIpv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

// Reads an object with `read`; nullopt with `error` when it is no object or `read` says why.
template <typename T, typename Read>
std::optional<T> ReadObject(const json& body, std::string& error, Read read) {
  if (!body.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  T value;
  error = read(body, value);
  if (!error.empty()) return std::nullopt;
  return value;
}

std::string ReadSummary(const json& object, EngagementSummary& summary) {
  if (!object.is_object()) return "an engagement is not a JSON object";
  return FirstProblem(
      {ReadString(object, "id", summary.id), ReadString(object, "mode", summary.mode),
       ReadString(object, "name", summary.name), ReadPorts(object, "ports", summary.ports)});
}

json SummaryToJson(const EngagementSummary& summary) {
  return {
      {"id", summary.id}, {"mode", summary.mode}, {"name", summary.name}, {"ports", summary.ports}};
}

std::string ReadWorkload(const json& object, WorkloadInfo& workload) {
  if (!object.is_object()) return "a workload is not a JSON object";
  std::string problem = FirstProblem({ReadString(object, "workload", workload.workload),
                                      ReadPorts(object, "ports", workload.ports),
                                      ReadStrings(object, "mounts", workload.mounts)});
  if (!problem.empty()) return problem;
  const json* engagement = Find(object, "engagement");
  if (engagement == nullptr) return "";
  if (!engagement->is_object()) return NotA("engagement", "an object");
  workload.engagement = EngagementSummary{};
  return ReadSummary(*engagement, *workload.engagement);
}

// The list `field` of `body`, each item read with `read`.
template <typename T, typename Read>
std::optional<std::vector<T>> ReadList(const json& body, std::string_view field, std::string& error,
                                       Read read) {
  const json* list = body.is_object() ? Find(body, field) : nullptr;
  if (list == nullptr || !list->is_array()) {
    error = body.is_object() ? NotA(field, "a list") : "not a JSON object";
    return std::nullopt;
  }
  std::vector<T> items;
  for (const json& item : *list) {
    T value;
    error = read(item, value);
    if (!error.empty()) return std::nullopt;
    items.push_back(std::move(value));
  }
  return items;
}

}  // namespace

json EngageRequestToJson(const EngageRequest& request) {
  return {{"workload", request.workload},
          {"mode", std::string(EngagementModeName(request.mode))},
          {"ports", request.ports},
          {"name", request.name},
          {"sftp_client", request.sftp_client}};
}

std::optional<EngageRequest> EngageRequestFromJson(const json& body, std::string& error) {
  return ReadObject<EngageRequest>(body, error, [](const json& object, EngageRequest& request) {
    std::string problem = FirstProblem({ReadString(object, "workload", request.workload),
                                        ReadPorts(object, "ports", request.ports),
                                        ReadString(object, "name", request.name),
                                        ReadString(object, "sftp_client", request.sftp_client)});
    if (!problem.empty()) return problem;
    if (request.workload.empty()) return NotA("workload", "a workload's name");
    if (Find(object, "mode") == nullptr) return NotA("mode", "one of " + EngagementModeNames());
    if (problem = ReadMode(object, request.mode); !problem.empty()) return problem;
    if (!request.sftp_client.empty() && !IsIpv4(request.sftp_client)) {
      return NotA("sftp_client", "an IPv4 address");
    }
    return std::string();
  });
}

json HandlerBodyToJson(const HandlerBody& body) {
  json ports = json::object();
  for (const auto& [workload_port, handler_port] : body.ports) {
    ports[std::to_string(workload_port)] = handler_port;
  }
  return {{"address", body.address}, {"ports", ports}};
}

std::optional<HandlerBody> HandlerBodyFromJson(const json& body, std::string& error) {
  return ReadObject<HandlerBody>(body, error, [](const json& object, HandlerBody& handler) {
    std::string problem = FirstProblem({ReadString(object, "address", handler.address),
                                        ReadPortMap(object, "ports", handler.ports)});
    if (!problem.empty()) return problem;
    if (!IsIpv4(handler.address)) return NotA("address", "the handler's IPv4 address");
    return std::string();
  });
}

json EngagementGrantToJson(const EngagementGrant& grant) {
  return {{"id", grant.id},
          {"container", grant.container},
          {"ports", grant.ports},
          {"sftp_port", grant.sftp_port},
          {"sftp_token", grant.sftp_token},
          {"env", grant.env},
          {"mounts", grant.mounts}};
}

std::optional<EngagementGrant> EngagementGrantFromJson(const json& body, std::string& error) {
  return ReadObject<EngagementGrant>(body, error, [](const json& object, EngagementGrant& grant) {
    std::string problem = FirstProblem(
        {ReadString(object, "id", grant.id), ReadString(object, "container", grant.container),
         ReadPorts(object, "ports", grant.ports), ReadPort(object, "sftp_port", grant.sftp_port),
         ReadString(object, "sftp_token", grant.sftp_token),
         ReadStringMap(object, "env", grant.env), ReadStrings(object, "mounts", grant.mounts)});
    if (!problem.empty()) return problem;
    if (grant.id.empty()) return NotA("id", "an engagement's id");
    return std::string();
  });
}

json EngagementListToJson(const std::vector<EngagementSummary>& engagements) {
  json list = json::array();
  for (const EngagementSummary& summary : engagements) list.push_back(SummaryToJson(summary));
  return {{"engagements", std::move(list)}};
}

std::optional<std::vector<EngagementSummary>> EngagementListFromJson(const json& body,
                                                                     std::string& error) {
  return ReadList<EngagementSummary>(body, "engagements", error, ReadSummary);
}

json WorkloadListToJson(const std::vector<WorkloadInfo>& workloads) {
  json list = json::array();
  for (const WorkloadInfo& workload : workloads) {
    list.push_back({{"workload", workload.workload},
                    {"ports", workload.ports},
                    {"mounts", workload.mounts},
                    {"engagement",
                     workload.engagement ? SummaryToJson(*workload.engagement) : json(nullptr)}});
  }
  return {{"workloads", std::move(list)}};
}

std::optional<std::vector<WorkloadInfo>> WorkloadListFromJson(const json& body,
                                                              std::string& error) {
  return ReadList<WorkloadInfo>(body, "workloads", error, ReadWorkload);
}

}  // namespace tp::api
