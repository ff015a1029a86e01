#include "telemount/volume/plugin_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string_view>

#include "common/plugin_server.h"
#include "telemount/fs/sftp_remote_mount.h"
#include "telemount/volume/volume_api.h"
#include "telemount/volume/volume_registry.h"

namespace tp::telemount {
namespace {

constexpr const char* kUsage =
    "usage: telemount plugin [--socket PATH] [--state DIR] [--root DIR]\n"
    "\n"
    "Serves the Telemount Docker volume driver (docker.volumedriver/1.0).\n"
    "  --socket PATH  plugin socket (default /run/docker/plugins/telemount.sock)\n"
    "  --state DIR    where the volume list is kept (default /var/lib/telemount)\n"
    "  --root DIR     where the shared FUSE mounts live (default /mnt/volumes)\n"
    "Volumes: docker volume create -d telemount -o host=H -o port=P -o container=C [-o dir=D]\n"
    "         [-o ro=true] NAME, or -o path=/ABSOLUTE/FOLDER instead of container and dir.\n"
    "Environment: DEBUG, TELEMOUNT_CONNECT_TIMEOUT, TELEMOUNT_REQUEST_TIMEOUT,\n"
    "             TELEMOUNT_CACHE_TIMEOUT (seconds).\n";

// Matches `--name VALUE` or `--name=VALUE` at argv[*index]; advances *index past the value.
bool TakeOption(std::string_view name, int argc, char** argv, int* index, std::string* value,
                std::string* error) {
  std::string_view arg = argv[*index];
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

std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code) {
  PluginCommandOptions options;
  for (int i = 0; i < argc; ++i) {
    std::string_view arg = argv[i];
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      *exit_code = 0;
      return std::nullopt;
    }
    const bool known = TakeOption("--socket", argc, argv, &i, &options.socket, &error) ||
                       TakeOption("--state", argc, argv, &i, &options.state_dir, &error) ||
                       TakeOption("--root", argc, argv, &i, &options.mount_root, &error);
    if (!known) error = "unknown argument " + std::string(arg);
    if (!error.empty()) {
      std::fprintf(stderr, "telemount plugin: %s\n%s", error.c_str(), kUsage);
      *exit_code = 2;
      return std::nullopt;
    }
  }
  return options;
}

int RunPluginCommand(int argc, char** argv, ShutdownSignal& shutdown) {
  int exit_code = 0;
  std::optional<PluginCommandOptions> options = ParsePluginCommandArgs(argc, argv, &exit_code);
  if (!options) return exit_code;
  try {
    std::unique_ptr<RemoteMountFactory> factory =
        MakeSftpRemoteMountFactory(SettingsFromEnvironment());
    VolumeRegistry registry(*factory, options->mount_root, options->state_dir);
    PluginServer server(options->socket, {"VolumeDriver"});
    server.AddRoutes(VolumeDriverRoutes(registry));
    server.Start();
    const int signal = shutdown.Wait();
    spdlog::info("signal {}: stopping", signal);
    server.Stop();
    registry.UnmountAll();
  } catch (const std::exception& error) {
    spdlog::error("telemount plugin: {}", error.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace tp::telemount
