// `teleroute plugin`: serves the Teleroute network driver (docker.networkdriver/1.0) on a Unix
// socket until SIGTERM/SIGINT/SIGHUP, then stops serving and returns 0. Links stay in the kernel
// so running containers keep working across plugin restarts. Runs as PID 1 of the managed plugin.
#pragma once

#include <optional>
#include <string>

#include "common/shutdown_signal.h"

namespace tp::teleroute {

struct PluginCommandOptions {
  std::string socket = "/run/docker/plugins/teleroute.sock";
  std::string state_dir = "/var/lib/teleroute";
};

// Parses `[--socket PATH] [--state DIR] [--help]` (also --opt=value). `args` holds only the
// options. Returns nullopt after printing help (stdout, `*exit_code` = 0) or a usage error
// (stderr, `*exit_code` = 2).
std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code);

// Runs the plugin; argv holds only the options of the `plugin` command. `shutdown` is main's
// ShutdownSignal, constructed before any thread. Returns the process exit code.
int RunPluginCommand(int argc, char** argv, ShutdownSignal& shutdown);

}  // namespace tp::teleroute
