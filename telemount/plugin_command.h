// `telemount plugin`: serves the Telemount volume driver (docker.volumedriver/1.0) on a Unix
// socket until SIGTERM/SIGINT/SIGHUP, then stops serving, unmounts every shared mount and
// returns 0. Runs as PID 1 of the managed plugin.
#pragma once

#include <optional>
#include <string>

#include "common/shutdown_signal.h"

namespace tp::telemount {

struct PluginCommandOptions {
  std::string socket = "/run/docker/plugins/telemount.sock";
  std::string state_dir = "/var/lib/telemount";
  std::string mount_root = "/mnt/volumes";  // must be under the plugin's propagatedMount
};

// Parses `[--socket PATH] [--state DIR] [--root DIR] [--help]` (also --opt=value). `args` holds
// only the options (no program name, no "plugin"). Returns nullopt after printing help (to
// stdout, `*exit_code` = 0) or a usage error (to stderr, `*exit_code` = 2).
std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code);

// Runs the plugin. argv holds only the options of the `plugin` command: argv[0] is the first
// option, not the program name nor the word "plugin". `shutdown` is main's ShutdownSignal,
// constructed before any thread. Returns the process exit code. Expects InitLogging was called.
int RunPluginCommand(int argc, char** argv, ShutdownSignal& shutdown);

}  // namespace tp::telemount
