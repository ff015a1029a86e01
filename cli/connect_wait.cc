#include "cli/connect_wait.h"

#include <cstdio>

namespace tp::cli {

ConnectStep NextConnectStep(const ConnectObservation& observation,
                            std::chrono::milliseconds elapsed, std::chrono::milliseconds timeout) {
  if (observation.status && IsReady(*observation.status)) return ConnectStep::kReady;
  if (observation.status && !observation.status->connected &&
      ClassifyDaemonError(observation.status->error) == ManagerProblem::kRefused) {
    return ConnectStep::kRefused;
  }
  if (!observation.daemon_running) return ConnectStep::kDaemonStopped;
  if (elapsed >= timeout) return ConnectStep::kTimedOut;
  return ConnectStep::kWait;
}

std::string FormatSeconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

int DueProgressDots(std::chrono::milliseconds elapsed, int dots_printed) {
  int due = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(elapsed).count());
  return due > dots_printed ? due - dots_printed : 0;
}

std::string FormatConnected(const DaemonStatus& status, std::string_view context_name,
                            std::string_view container, uint16_t control_port,
                            std::string_view teleroute_network, std::chrono::milliseconds elapsed) {
  return "Daemon container: " + std::string(container) +
         " (control API on 127.0.0.1:" + std::to_string(control_port) + ")\n" +
         "Cluster subnets: " + JoinOrNone(status.subnets) + "\n" +
         "DNS search domains: " + JoinOrNone(status.dns_search) + "\n" +
         FormatTelerouteNetworkLine(teleroute_network) + "Connected to " + status.manager +
         " (context " + std::string(context_name) + ") in " + FormatSeconds(elapsed) + "\n";
}

std::string FormatTelerouteNetworkLine(std::string_view teleroute_network) {
  return "Teleroute network: " + std::string(teleroute_network) + "\n";
}

std::string FormatAlreadyConnected(std::string_view manager, std::string_view context_name) {
  return "Already connected to " + std::string(manager) + " (context " + std::string(context_name) +
         ")\n";
}

}  // namespace tp::cli
