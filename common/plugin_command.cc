#include "common/plugin_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

namespace tp {
namespace {

// Matches `--name VALUE` or `--name=VALUE` at argv[*index]; advances *index past the value.
bool TakeOption(std::string_view name, int argc, char** argv, int* index, std::string* value,
                std::string* error) {
  const std::string_view arg = argv[*index];
  if (arg.substr(0, name.size()) != name) return false;
  if (arg.size() == name.size()) {
    if (*index + 1 >= argc) {
      *error = std::string(name) + " needs a value";
      return true;
    }
    *value = argv[++*index];
    return true;
  }
  if (arg[name.size()] != '=') return false;
  *value = std::string(arg.substr(name.size() + 1));
  return true;
}

}  // namespace

bool ParsePluginFlags(int argc, char** argv, const std::vector<PluginFlag>& flags,
                      std::string_view program, const char* usage, int* exit_code) {
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      *exit_code = 0;
      return false;
    }
    bool known = false;
    for (const PluginFlag& flag : flags) {
      if (TakeOption(flag.name, argc, argv, &i, flag.value, &error)) {
        known = true;
        break;
      }
    }
    if (!known) error = "unknown argument " + std::string(arg);
    if (!error.empty()) {
      std::fprintf(stderr, "%.*s: %s\n%s", static_cast<int>(program.size()), program.data(),
                   error.c_str(), usage);
      *exit_code = 2;
      return false;
    }
  }
  return true;
}

void ServeUntilShutdown(PluginServer& server, ShutdownSignal& shutdown) {
  server.Start();
  const int signal = shutdown.Wait();
  spdlog::info("signal {}: stopping", signal);
  server.Stop();
}

int RunPlugin(std::string_view program, const std::function<void()>& serve) {
  try {
    serve();
  } catch (const std::exception& error) {
    spdlog::error("{}: {}", program, error.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace tp
