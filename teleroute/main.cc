// teleroute: the Docker network driver that routes cluster subnets via the Telepresence daemon
// container.
#include <malloc.h>

#include <cstdio>
#include <cstring>

#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "teleroute/plugin_command.h"

namespace {

constexpr const char* kUsage =
    "usage: teleroute COMMAND [ARGS]\n"
    "\n"
    "commands:\n"
    "  plugin [--socket PATH] [--state DIR]   serve the Docker network driver API\n"
    "\n"
    "Run `teleroute plugin --help` for its options. DEBUG=1 logs every request.\n";

}  // namespace

int main(int argc, char** argv) {
  // glibc would give each server thread its own malloc arena; two keep the resident heap small.
  mallopt(M_ARENA_MAX, 2);
  tp::ShutdownSignal shutdown;  // first: every thread started later inherits the signal mask
  tp::InitLogging("teleroute", tp::LogStreams::kSplitByLevel);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "plugin") == 0) {
    return tp::teleroute::RunPluginCommand(argc - 2, argv + 2, shutdown);
  }
  std::fprintf(stderr, "teleroute: unknown command '%s'\n\n%s", argv[1], kUsage);
  return 2;
}
