// What the commands do when the context's daemon runs on this host (`telepresence connect`
// without --docker; see host_daemon.h): finding it and its control API, its status, quitting it.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "cli/host_daemon.h"
#include "cli/services.h"

namespace tp::cli {

struct HostDaemonConnection {
  std::unique_ptr<DaemonControl> control;
  DaemonEndpoint endpoint;
  HostDaemonRecord record;
};

// The context's daemon on this host while it runs; nullopt when none runs (or this build has
// no host daemons).
Result<std::optional<HostDaemonConnection>> FindHostDaemon(const std::string& context_name,
                                                           CliServices& services);

// The context's running host daemon when no daemon container of the context exists (a
// container, even a stopped one, makes the context --docker's); nullopt otherwise.
Result<std::optional<HostDaemonConnection>> HostDaemonUnlessContainer(
    const std::string& context_name, CliServices& services);

// Whether the context has a host daemon, running or died (a record to clean up).
bool HasHostDaemon(const std::string& context_name, CliServices& services);

// Asks the context's host daemon to quit (SIGTERM when the control API does not take it), waits
// until it ended, and puts back what a daemon that died left (its resolv.conf, its capture).
// What goes wrong is said on io.err; error when the host could not be put back.
Status QuitHostDaemon(const std::string& context_name, const CliIo& io, CliServices& services);

// `telepresence status` of a running host daemon: the same lines as for a container, with
// "Daemon: this host (pid N)"; JSON with "daemon_pid" and "container": null.
int PrintHostDaemonStatus(const HostDaemonConnection& daemon, const std::string& context_name,
                          bool json, const CliIo& io);

}  // namespace tp::cli
