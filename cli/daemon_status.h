// The daemon's GET /status answer as the CLI reads it, and the ways the CLI shows it. Pure.
//
// The daemon answers with api::DaemonStatus's JSON (api/daemon_status.h).
//
// `telepresence status` prints, when a daemon container runs (one "Key: value" per line; lines
// in this order; "Last error" only when there is one):
//   Connected: yes|no
//   Context: default
//   Daemon container: tp-default-cn
//   Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)   ("none" without one)
//   Traffic-manager: 172.17.0.1:18081
//   Cluster subnets: 10.213.0.0/24            ("none" when empty; several joined by ", ")
//   DNS server: 172.17.0.2:53                 ("not started" when empty)
//   DNS search domains: default.svc.cluster.local, svc.cluster.local, cluster.local
//   Capture: TCP and UDP to 10.213.0.0/24 on port 15001   (or "off", or "not active: ERROR")
//   Reconnects: 0
//   Last error: ...
// when there is no daemon container:
//   Not connected (context default)
//   Connected: no
// and when the container exists but does not run (STATE: "exited", "created", ...):
//   Not connected (context default): the daemon container tp-default-cn is STATE
//   Connected: no
// `status --output json` prints the daemon's JSON with "context", "container" and
// "teleroute_network" ({"name","subnet","daemon"} or null) added, or
//   {"connected":false,"context":"default","container":null}
//   {"connected":false,"context":"default","container":"tp-default-cn","container_state":STATE}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "api/daemon_status.h"
#include "cli/result.h"

namespace tp::cli {

using api::DaemonStatus;

// Reads the /status body (api::DaemonStatusFromJson); what is wrong with it is an error that
// names the fix.
Result<DaemonStatus> ParseDaemonStatus(const nlohmann::json& body);

// Connected and serving DNS: what `connect` waits for, so that names resolve right after it.
bool IsReady(const DaemonStatus& status);

// What the daemon's last error says about the traffic-manager.
enum class ManagerProblem {
  kNone,
  kRefused,      // the manager answered and refused us (wrong secret, bad greeting)
  kUnreachable,  // no connection to the manager (nothing listens, no route, name unknown)
  kOther,        // the tunnel broke, a timeout, ...
};
ManagerProblem ClassifyDaemonError(std::string_view error);

// The text of `telepresence status` for a running daemon container (format above);
// `teleroute_network` as FormatTelerouteNetwork gives it, "" when there is none.
std::string FormatStatusText(const DaemonStatus& status, std::string_view context_name,
                             std::string_view container, std::string_view teleroute_network);
// The same for a daemon on this host: "Daemon: this host (pid N)" instead of the container and
// network lines.
std::string FormatHostStatusText(const DaemonStatus& status, std::string_view context_name,
                                 int pid);
// The text when there is no daemon container.
std::string FormatNotConnectedText(std::string_view context_name);

// The text when the daemon container exists but is not running.
std::string FormatContainerNotRunningText(std::string_view context_name, std::string_view container,
                                          std::string_view state);

// The daemon's body with "context" and "container" added.
nlohmann::json StatusJson(nlohmann::json daemon_body, std::string_view context_name,
                          std::string_view container);
// {"connected":false,"context":...,"container":null}
nlohmann::json NotConnectedJson(std::string_view context_name);

nlohmann::json ContainerNotRunningJson(std::string_view context_name, std::string_view container,
                                       std::string_view state);

// "a, b" or "none".
std::string JoinOrNone(const std::vector<std::string>& words);

}  // namespace tp::cli
