// telemount: a FUSE file system over SFTP (plain TCP), as a standalone mount or as a Docker
// volume driver plugin.
#include <malloc.h>

#include <cstdio>
#include <cstring>

#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "telemount/fs/mount_command.h"
#include "telemount/plugin_command.h"

namespace {

constexpr const char* kUsage =
    "usage: telemount COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  mount HOST:PORT:/remote/path MOUNTPOINT [-o ro]   mount a remote folder (foreground)\n"
    "  plugin [--socket PATH] [--state DIR] [--root DIR] serve the Docker volume driver API\n"
    "\n"
    "Run `telemount COMMAND --help` for a command's options. DEBUG=1 logs every request.\n";

}  // namespace

int main(int argc, char** argv) {
  tp::ShutdownSignal shutdown;  // first: every thread started later inherits the signal mask
  tp::InitLogging("telemount", tp::LogStreams::kSplitByLevel);
  // Replies and FUSE read buffers are a few hundred KiB each: keep them on the heap rather than
  // in a fresh mapping each (whose every page would fault in), and keep freed memory for reuse.
  mallopt(M_MMAP_THRESHOLD, 8 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "mount") == 0) {
    return tp::telemount::RunMountCommand(argc - 2, argv + 2, shutdown);
  }
  if (std::strcmp(argv[1], "plugin") == 0) {
    return tp::telemount::RunPluginCommand(argc - 2, argv + 2, shutdown);
  }
  std::fprintf(stderr, "telemount: unknown command '%s'\n\n%s", argv[1], kUsage);
  return 2;
}
