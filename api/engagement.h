// The engagement contracts between the CLI and the daemon's control API (docs/engagements.md,
// "CLI -> daemon"): one type and one JSON codec each. Pure: no I/O.
//
//   POST /engagements                 body   EngageRequest
//                                     answer EngagementGrant
//   POST /engagements/<id>/handler    body   HandlerBody
//   GET  /engagements                 answer {"engagements": [EngagementSummary...]}
//   GET  /workloads                   answer {"workloads": [WorkloadInfo...]}
//
// Readers: a missing (or null) field keeps its default, unknown fields are ignored (an older or
// newer peer); a field of the wrong type gives nullopt and `error` = "field 'NAME' is not ..."
// (api/json_fields.h), or "not a JSON object".
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/engagement_mode.h"
#include "api/mount_policy.h"

namespace tp::api {

// {"workload", "mode", "ports": [...], "name", "sftp_client"}
struct EngageRequest {
  std::string workload{};                          // required: not empty
  EngagementMode mode = EngagementMode::kReplace;  // required
  std::vector<uint16_t> ports{};                   // the workload ports to engage (1..65535)
  std::string name{};                              // the engagement's name; "": the workload's
  // The host's address on Docker's bridge: the only peer the engagement's SFTP forward serves.
  // "": any (an older CLI). An IPv4 address when set.
  std::string sftp_client{};
  bool operator==(const EngageRequest&) const = default;
};
nlohmann::json EngageRequestToJson(const EngageRequest& request);
std::optional<EngageRequest> EngageRequestFromJson(const nlohmann::json& body, std::string& error);

// {"address": "10.200.0.130", "ports": {"8080": 8081}}: where an engagement's traffic goes.
struct HandlerBody {
  std::string address{};                 // required: numeric IPv4
  std::map<uint16_t, uint16_t> ports{};  // workload port -> handler port, each 1..65535
  bool operator==(const HandlerBody&) const = default;
};
nlohmann::json HandlerBodyToJson(const HandlerBody& body);
std::optional<HandlerBody> HandlerBodyFromJson(const nlohmann::json& body, std::string& error);

// POST /engagements' answer: {"id", "container", "ports", "sftp_port", "sftp_token", "env": {},
// "mounts": [...], "mount_policies": {PATH: POLICY}} (and what else the traffic-manager says,
// ignored here).
struct EngagementGrant {
  std::string id{};                          // required: not empty
  std::string container{};                   // the workload's container (telemount's container=)
  std::vector<uint16_t> ports{};             // the engaged workload ports
  uint16_t sftp_port = 0;                    // the daemon's SFTP forward for the engagement
  std::string sftp_token{};                  // its credential (telemount's token=); "": none
  std::map<std::string, std::string> env{};  // the workload's environment
  std::vector<std::string> mounts{};         // the workload's mount paths
  MountPolicies mount_policies{};            // those that are not Remote
  bool operator==(const EngagementGrant&) const = default;
};
nlohmann::json EngagementGrantToJson(const EngagementGrant& grant);
std::optional<EngagementGrant> EngagementGrantFromJson(const nlohmann::json& body,
                                                       std::string& error);

// An engagement as GET /engagements and GET /workloads show it: {"id", "mode", "name", "ports"}.
struct EngagementSummary {
  std::string id{};
  std::string mode{};  // as the daemon says it (a newer daemon may know more modes)
  std::string name{};
  std::vector<uint16_t> ports{};
  bool operator==(const EngagementSummary&) const = default;
};

// One workload of GET /workloads: {"workload", "ports", "mounts", "mount_policies",
// "engagement": summary|null}.
struct WorkloadInfo {
  std::string workload{};
  std::vector<uint16_t> ports{};
  std::vector<std::string> mounts{};
  MountPolicies mount_policies{};  // those that are not Remote
  std::optional<EngagementSummary> engagement{};
  bool operator==(const WorkloadInfo&) const = default;
};

// {"engagements": [...]}; the list is required.
nlohmann::json EngagementListToJson(const std::vector<EngagementSummary>& engagements);
std::optional<std::vector<EngagementSummary>> EngagementListFromJson(const nlohmann::json& body,
                                                                     std::string& error);
// {"workloads": [...]}; the list is required.
nlohmann::json WorkloadListToJson(const std::vector<WorkloadInfo>& workloads);
std::optional<std::vector<WorkloadInfo>> WorkloadListFromJson(const nlohmann::json& body,
                                                              std::string& error);

}  // namespace tp::api
