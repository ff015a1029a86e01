// Finding the context's running daemon for the commands that act through it (the engagement
// commands, list, leave, compose): its control API, where it is, and the placement an
// engagement's handler needs. Errors are sentences that say to connect first.
#pragma once

#include <memory>
#include <string>

#include "cli/engagement_plan.h"
#include "cli/services.h"

namespace tp::cli {

// " --context NAME", or "" for the default context: for the commands a sentence suggests.
std::string ContextFlagText(const std::string& context_name);

// "not connected (no daemon container ... runs); run telepresence connect --docker first".
CliError NotConnected(const std::string& context_name);

// The control API of the context's running daemon, and where it is.
struct DaemonConnection {
  std::unique_ptr<DaemonControl> control;
  DaemonEndpoint endpoint;
};

// Error: no daemon container runs (NotConnected), or Docker cannot say where its API is.
Result<DaemonConnection> ConnectToDaemon(const std::string& context_name, CliServices& services);

// What an engagement needs of the connected daemon.
struct ConnectedDaemon {
  std::unique_ptr<DaemonControl> control;
  DaemonEndpoint endpoint;
  std::string container;  // tp-<ctx>-cn
  DaemonPlacement placement;
};

// Error: not connected with --docker (no daemon, no Teleroute network), no answer from the
// daemon, or no address of the daemon on Docker's bridge (where telemount mounts from).
Result<ConnectedDaemon> FindConnectedDaemon(const std::string& context_name, CliServices& services);

}  // namespace tp::cli
