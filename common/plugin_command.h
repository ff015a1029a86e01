// The shared skeleton of a `<tool> plugin` command: parsing its `--name VALUE` options and
// serving a PluginServer until a shutdown signal. Drivers supply only their options, usage text
// and what to build and tear down around the server. Call from main's thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/plugin_server.h"
#include "common/shutdown_signal.h"

namespace tp {

// An option `--name VALUE` (or `--name=VALUE`) whose value is stored in `*value`.
struct PluginFlag {
  std::string_view name;  // e.g. "--socket"
  std::string* value;
};

// Parses argv (options only) against `flags`. Returns false after printing `usage` for
// --help/-h (stdout, `*exit_code` = 0) or "`program`: error" and `usage` for an unknown argument
// or a missing value (stderr, `*exit_code` = 2); true when every argument was a flag.
bool ParsePluginFlags(int argc, char** argv, const std::vector<PluginFlag>& flags,
                      std::string_view program, const char* usage, int* exit_code);

// Starts `server`, waits for `shutdown`, logs the signal and stops the server.
void ServeUntilShutdown(PluginServer& server, ShutdownSignal& shutdown);

// Runs `serve` and turns its outcome into the exit code: 0 (logging "stopped") when it returns,
// 1 (logging "`program`: what()") when it throws.
int RunPlugin(std::string_view program, const std::function<void()>& serve);

}  // namespace tp
