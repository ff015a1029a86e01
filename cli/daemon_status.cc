#include "cli/daemon_status.h"

namespace tp::cli {
namespace {

using nlohmann::json;

CliError FieldError(std::string_view field, std::string_view expected) {
  return CliError{"the daemon's status has a field '" + std::string(field) + "' that is not " +
                  std::string(expected) +
                  "; is the daemon image (tp-daemon:latest) from another "
                  "version? Rebuild it with make images"};
}

Status ReadString(const json& object, std::string_view field, std::string& target) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return Ok{};
  if (!found->is_string()) return FieldError(field, "a string");
  target = found->get<std::string>();
  return Ok{};
}

Status ReadStrings(const json& object, std::string_view field, std::vector<std::string>& target) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return Ok{};
  if (!found->is_array()) return FieldError(field, "a list of strings");
  for (const json& item : *found) {
    if (!item.is_string()) return FieldError(field, "a list of strings");
    target.push_back(item.get<std::string>());
  }
  return Ok{};
}

Status ReadBool(const json& object, std::string_view field, bool& target) {
  auto found = object.find(field);
  if (found == object.end()) return Ok{};
  if (!found->is_boolean()) return FieldError(field, "true or false");
  target = found->get<bool>();
  return Ok{};
}

Status ReadCount(const json& object, std::string_view field, uint64_t& target) {
  auto found = object.find(field);
  if (found == object.end()) return Ok{};
  bool is_count =
      found->is_number_unsigned() || (found->is_number_integer() && found->get<int64_t>() >= 0);
  if (!is_count) return FieldError(field, "a count");
  target = found->get<uint64_t>();
  return Ok{};
}

Status ReadDns(const json& object, DaemonStatus& status) {
  auto dns = object.find("dns");
  if (dns == object.end() || dns->is_null()) return Ok{};
  if (!dns->is_object()) return FieldError("dns", "an object");
  if (Status read = ReadString(*dns, "address", status.dns_address); !read.ok()) return read;
  return ReadStrings(*dns, "search", status.dns_search);
}

Status ReadCapture(const json& object, DaemonStatus& status) {
  auto capture = object.find("capture");
  if (capture == object.end() || capture->is_null()) return Ok{};
  if (!capture->is_object()) return FieldError("capture", "an object");
  for (Status read : {ReadBool(*capture, "enabled", status.capture_enabled),
                      ReadBool(*capture, "active", status.capture_active),
                      ReadCount(*capture, "port", status.capture_port),
                      ReadStrings(*capture, "subnets", status.capture_subnets),
                      ReadString(*capture, "error", status.capture_error)}) {
    if (!read.ok()) return read;
  }
  return Ok{};
}

std::string DescribeCapture(const DaemonStatus& status) {
  if (!status.capture_enabled) return "off";
  if (!status.capture_active) {
    return status.capture_error.empty() ? "not active yet" : "not active: " + status.capture_error;
  }
  std::string subnets;
  for (const std::string& subnet : status.capture_subnets) {
    subnets += (subnets.empty() ? "" : ", ") + subnet;
  }
  return "TCP and UDP to " + (subnets.empty() ? std::string("no subnet yet") : subnets) +
         " on port " + std::to_string(status.capture_port);
}

bool Contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

std::string Line(std::string_view key, std::string_view value) {
  return std::string(key) + ": " + std::string(value) + "\n";
}

}  // namespace

Result<DaemonStatus> ParseDaemonStatus(const json& body) {
  if (!body.is_object()) {
    return CliError{
        "the daemon's status is not a JSON object; is something else listening on "
        "its control port?"};
  }
  DaemonStatus status;
  for (Status read :
       {ReadBool(body, "connected", status.connected), ReadString(body, "manager", status.manager),
        ReadStrings(body, "subnets", status.subnets), ReadDns(body, status),
        ReadString(body, "error", status.error), ReadCount(body, "reconnects", status.reconnects),
        ReadCapture(body, status)}) {
    if (!read.ok()) return read.error();
  }
  return status;
}

bool IsReady(const DaemonStatus& status) { return status.connected && !status.dns_address.empty(); }

ManagerProblem ClassifyDaemonError(std::string_view error) {
  if (error.empty()) return ManagerProblem::kNone;
  // "cannot reach the traffic-manager: cannot connect to H:P: Connection refused" is a dial
  // failure, not a refusal by the manager: check it first.
  if (Contains(error, "cannot reach") || Contains(error, "cannot resolve") ||
      Contains(error, "cannot connect")) {
    return ManagerProblem::kUnreachable;
  }
  if (Contains(error, "refused") || Contains(error, "secret")) return ManagerProblem::kRefused;
  return ManagerProblem::kOther;
}

std::string JoinOrNone(const std::vector<std::string>& words) {
  if (words.empty()) return "none";
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : ", ") + word;
  return joined;
}

std::string FormatStatusText(const DaemonStatus& status, std::string_view context_name,
                             std::string_view container, std::string_view teleroute_network) {
  std::string text =
      Line("Connected", status.connected ? "yes" : "no") + Line("Context", context_name) +
      Line("Daemon container", container) +
      Line("Teleroute network", teleroute_network.empty() ? "none" : teleroute_network) +
      Line("Traffic-manager", status.manager) +
      Line("Cluster subnets", JoinOrNone(status.subnets)) +
      Line("DNS server", status.dns_address.empty() ? "not started" : status.dns_address) +
      Line("DNS search domains", JoinOrNone(status.dns_search)) +
      Line("Capture", DescribeCapture(status)) +
      Line("Reconnects", std::to_string(status.reconnects));
  if (!status.error.empty()) text += Line("Last error", status.error);
  return text;
}

std::string FormatNotConnectedText(std::string_view context_name) {
  return "Not connected (context " + std::string(context_name) + ")\n" + Line("Connected", "no");
}

std::string FormatContainerNotRunningText(std::string_view context_name, std::string_view container,
                                          std::string_view state) {
  return "Not connected (context " + std::string(context_name) + "): the daemon container " +
         std::string(container) + " is " + std::string(state) + "\n" + Line("Connected", "no");
}

json StatusJson(json daemon_body, std::string_view context_name, std::string_view container) {
  daemon_body["context"] = context_name;
  daemon_body["container"] = container;
  return daemon_body;
}

json NotConnectedJson(std::string_view context_name) {
  return {{"connected", false}, {"context", context_name}, {"container", nullptr}};
}

json ContainerNotRunningJson(std::string_view context_name, std::string_view container,
                             std::string_view state) {
  return {{"connected", false},
          {"context", context_name},
          {"container", container},
          {"container_state", state}};
}

}  // namespace tp::cli
