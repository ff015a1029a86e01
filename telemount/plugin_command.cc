#include "telemount/plugin_command.h"

#include "common/plugin_command.h"
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

}  // namespace

std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code) {
  PluginCommandOptions options;
  if (!ParsePluginFlags(argc, argv,
                        {{"--socket", &options.socket},
                         {"--state", &options.state_dir},
                         {"--root", &options.mount_root}},
                        "telemount plugin", kUsage, exit_code)) {
    return std::nullopt;
  }
  return options;
}

int RunPluginCommand(int argc, char** argv, ShutdownSignal& shutdown) {
  int exit_code = 0;
  std::optional<PluginCommandOptions> options = ParsePluginCommandArgs(argc, argv, &exit_code);
  if (!options) return exit_code;
  return RunPlugin("telemount plugin", [&] {
    std::unique_ptr<RemoteMountFactory> factory =
        MakeSftpRemoteMountFactory(SettingsFromEnvironment());
    VolumeRegistry registry(*factory, options->mount_root, options->state_dir);
    PluginServer server(options->socket, {"VolumeDriver"});
    server.AddRoutes(VolumeDriverRoutes(registry));
    ServeUntilShutdown(server, shutdown);
    registry.UnmountAll();
  });
}

}  // namespace tp::telemount
