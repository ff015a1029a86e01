// The decisions `telepresence connect` takes while it waits for the daemon container to
// connect, and the text it prints. Pure: the caller looks at the daemon, passes what it saw and
// how long it has waited, and gets the next step.
//
// Output of a successful connect (stdout; the last line always starts with "Connected to"):
//   Daemon container: tp-default-cn (control API on 127.0.0.1:49153)
//   Cluster subnets: 10.213.0.0/24
//   DNS search domains: default.svc.cluster.local, svc.cluster.local, cluster.local
//   Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)
//   Connected to 172.17.0.1:18081 (context default) in 0.6 s
// and when the context's daemon was already connected (nothing else printed):
//   Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)
//   Already connected to 172.17.0.1:18081 (context default)
// On stderr meanwhile, one progress line that gets a dot per second:
//   Connecting to the traffic-manager at 172.17.0.1:18081 ... connected
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cli/daemon_status.h"

namespace tp::cli {

// What one look at the starting daemon found.
struct ConnectObservation {
  std::optional<DaemonStatus> status{};  // nullopt: GET /status did not answer (yet)
  bool daemon_running = true;            // its container still runs
};

enum class ConnectStep {
  kWait,           // look again later
  kReady,          // connected and serving DNS
  kRefused,        // the manager refused the daemon (wrong secret): no point in waiting
  kDaemonStopped,  // the container is gone or stopped
  kTimedOut,       // not ready within the timeout
};

// Ready wins; then a refusal; then a stopped daemon; then the timeout.
ConnectStep NextConnectStep(const ConnectObservation& observation,
                            std::chrono::milliseconds elapsed, std::chrono::milliseconds timeout);

// "0.6 s", "12.3 s".
std::string FormatSeconds(std::chrono::milliseconds duration);

// How many progress dots are due after `elapsed` (one per whole second), given how many are out.
int DueProgressDots(std::chrono::milliseconds elapsed, int dots_printed);

// The stdout text of a successful connect (format above); `teleroute_network` as
// FormatTelerouteNetwork (teleroute_network.h) gives it.
std::string FormatConnected(const DaemonStatus& status, std::string_view context_name,
                            std::string_view container, uint16_t control_port,
                            std::string_view teleroute_network, std::chrono::milliseconds elapsed);

// "Teleroute network: tp-default (10.200.0.0/24, daemon 10.200.0.2)\n"
std::string FormatTelerouteNetworkLine(std::string_view teleroute_network);

std::string FormatAlreadyConnected(std::string_view manager, std::string_view context_name);

}  // namespace tp::cli
