#include "api/engagement.h"

#include <arpa/inet.h>

#include "api/json_fields.h"

namespace tp::api {
namespace {

using nlohmann::json;

std::string ReadMode(const json& object, EngagementMode& target) {
  std::string text;
  if (std::string problem = ReadString(object, "mode", text); !problem.empty()) return problem;
  const std::optional<EngagementMode> mode = ParseEngagementMode(text);
  if (!mode) return FieldIsNot("mode", "one of " + EngagementModeNames());
  target = *mode;
  return "";
}

bool IsIpv4(const std::string& text) {
  in_addr address{};
  return ::inet_pton(AF_INET, text.c_str(), &address) == 1;
}

// "mount_policies", when there.
std::string ReadMountPolicies(const json& object, MountPolicies& target) {
  const json* value = FindField(object, "mount_policies");
  if (value == nullptr) return "";
  std::string error;
  std::optional<MountPolicies> policies = MountPoliciesFromJson(*value, error);
  if (!policies) return error;
  target = std::move(*policies);
  return "";
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
                                      ReadStrings(object, "mounts", workload.mounts),
                                      ReadMountPolicies(object, workload.mount_policies)});
  if (!problem.empty()) return problem;
  const json* engagement = FindField(object, "engagement");
  if (engagement == nullptr) return "";
  if (!engagement->is_object()) return FieldIsNot("engagement", "an object");
  workload.engagement = EngagementSummary{};
  return ReadSummary(*engagement, *workload.engagement);
}

// The list `field` of `body`, each item read with `read`.
template <typename T, typename Read>
std::optional<std::vector<T>> ReadList(const json& body, std::string_view field, std::string& error,
                                       Read read) {
  const json* list = body.is_object() ? FindField(body, field) : nullptr;
  if (list == nullptr || !list->is_array()) {
    error = body.is_object() ? FieldIsNot(field, "a list") : "not a JSON object";
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
    if (request.workload.empty()) return FieldIsNot("workload", "a workload's name");
    if (FindField(object, "mode") == nullptr)
      return FieldIsNot("mode", "one of " + EngagementModeNames());
    if (problem = ReadMode(object, request.mode); !problem.empty()) return problem;
    if (!request.sftp_client.empty() && !IsIpv4(request.sftp_client)) {
      return FieldIsNot("sftp_client", "an IPv4 address");
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
    if (!IsIpv4(handler.address)) return FieldIsNot("address", "the handler's IPv4 address");
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
          {"mounts", grant.mounts},
          {"mount_policies", MountPoliciesToJson(grant.mount_policies)}};
}

std::optional<EngagementGrant> EngagementGrantFromJson(const json& body, std::string& error) {
  return ReadObject<EngagementGrant>(body, error, [](const json& object, EngagementGrant& grant) {
    std::string problem = FirstProblem(
        {ReadString(object, "id", grant.id), ReadString(object, "container", grant.container),
         ReadPorts(object, "ports", grant.ports), ReadPort(object, "sftp_port", grant.sftp_port),
         ReadString(object, "sftp_token", grant.sftp_token),
         ReadStringMap(object, "env", grant.env), ReadStrings(object, "mounts", grant.mounts),
         ReadMountPolicies(object, grant.mount_policies)});
    if (!problem.empty()) return problem;
    if (grant.id.empty()) return FieldIsNot("id", "an engagement's id");
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
                    {"mount_policies", MountPoliciesToJson(workload.mount_policies)},
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
