#include "cli/daemon_status.h"

namespace tp::cli {
namespace {

using nlohmann::json;

std::string DescribeCapture(const DaemonStatus& status) {
  if (!status.capture.enabled) return "off";
  if (!status.capture.active) {
    return status.capture.error.empty() ? "not active yet" : "not active: " + status.capture.error;
  }
  std::string subnets;
  for (const std::string& subnet : status.capture.subnets) {
    subnets += (subnets.empty() ? "" : ", ") + subnet;
  }
  return "TCP and UDP to " + (subnets.empty() ? std::string("no subnet yet") : subnets) +
         " on port " + std::to_string(status.capture.port);
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
  std::string problem;
  std::optional<DaemonStatus> status = api::DaemonStatusFromJson(body, problem);
  if (!status) {
    return CliError{"the daemon's status has a " + problem +
                    "; is the daemon image (tp-daemon:latest) from another version? Rebuild it "
                    "with make images"};
  }
  return std::move(*status);
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

namespace {

// The status lines; `placement` says where the daemon runs (one or two lines).
std::string StatusLines(const DaemonStatus& status, std::string_view context_name,
                        const std::string& placement) {
  std::string text =
      Line("Connected", status.connected ? "yes" : "no") + Line("Context", context_name) +
      placement + Line("Traffic-manager", status.manager) +
      Line("Cluster subnets", JoinOrNone(status.subnets)) +
      Line("DNS server", status.dns_address.empty() ? "not started" : status.dns_address) +
      Line("DNS search domains", JoinOrNone(status.dns_search)) +
      Line("Capture", DescribeCapture(status)) +
      Line("Reconnects", std::to_string(status.reconnects));
  if (!status.error.empty()) text += Line("Last error", status.error);
  return text;
}

}  // namespace

std::string FormatStatusText(const DaemonStatus& status, std::string_view context_name,
                             std::string_view container, std::string_view teleroute_network) {
  return StatusLines(
      status, context_name,
      Line("Daemon container", container) +
          Line("Teleroute network", teleroute_network.empty() ? "none" : teleroute_network));
}

std::string FormatHostStatusText(const DaemonStatus& status, std::string_view context_name,
                                 int pid) {
  return StatusLines(status, context_name,
                     Line("Daemon", "this host (pid " + std::to_string(pid) + ")"));
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
