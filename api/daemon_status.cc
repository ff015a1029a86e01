#include "api/daemon_status.h"

#include "api/json_fields.h"

namespace tp::api {
namespace {

using nlohmann::json;

std::string ReadDns(const json& body, DaemonStatus& status) {
  auto dns = body.find("dns");
  if (dns == body.end() || dns->is_null()) return "";
  if (!dns->is_object()) return "field 'dns' is not an object";
  return FirstProblem({ReadString(*dns, "address", status.dns_address),
                       ReadStrings(*dns, "search", status.dns_search)});
}

std::string ReadCapture(const json& body, CaptureStatus& capture) {
  auto found = body.find("capture");
  if (found == body.end() || found->is_null()) return "";
  if (!found->is_object()) return "field 'capture' is not an object";
  return FirstProblem(
      {ReadBool(*found, "enabled", capture.enabled), ReadBool(*found, "active", capture.active),
       ReadPort(*found, "port", capture.port), ReadStrings(*found, "subnets", capture.subnets),
       ReadString(*found, "error", capture.error)});
}

}  // namespace

json DaemonStatusToJson(const DaemonStatus& status) {
  return {
      {"connected", status.connected},
      {"manager", status.manager},
      {"subnets", status.subnets},
      {"dns", {{"address", status.dns_address}, {"search", status.dns_search}}},
      {"error", status.error},
      {"reconnects", status.reconnects},
      {"capture",
       {{"enabled", status.capture.enabled},
        {"active", status.capture.active},
        {"port", status.capture.port},
        {"subnets", status.capture.subnets},
        {"error", status.capture.error}}},
  };
}

std::optional<DaemonStatus> DaemonStatusFromJson(const json& body, std::string& error) {
  if (!body.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  DaemonStatus status;
  error = FirstProblem(
      {ReadBool(body, "connected", status.connected), ReadString(body, "manager", status.manager),
       ReadStrings(body, "subnets", status.subnets), ReadDns(body, status),
       ReadString(body, "error", status.error), ReadCount(body, "reconnects", status.reconnects),
       ReadCapture(body, status.capture)});
  if (!error.empty()) return std::nullopt;
  return status;
}

}  // namespace tp::api
