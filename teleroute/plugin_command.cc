#include "teleroute/plugin_command.h"

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>
#include <string_view>

#include "common/plugin_server.h"
#include "teleroute/netlink_os.h"
#include "teleroute/network_api.h"
#include "teleroute/route_source.h"
#include "teleroute/teleroute_driver.h"

namespace tp::teleroute {
namespace {

constexpr const char* kUsage =
    "usage: teleroute plugin [--socket PATH] [--state DIR]\n"
    "\n"
    "Serves the Teleroute Docker network driver (docker.networkdriver/1.0).\n"
    "  --socket PATH  plugin socket (default /run/docker/plugins/teleroute.sock)\n"
    "  --state DIR    where networks and endpoints are kept (default /var/lib/teleroute)\n"
    "Networks: docker network create -d teleroute:latest --subnet CIDR -o daemon=IP\n"
    "          [-o subnets=CIDR,CIDR...] [-o bridge=NAME] NAME\n"
    "  daemon   the daemon container's IPv4 address on the network (required)\n"
    "  subnets  cluster subnets that containers reach via the daemon\n"
    "  bridge   host bridge name (default tr-<first 12 characters of the network id>)\n"
    "Environment: DEBUG=1 logs every request.\n";

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

std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code) {
  PluginCommandOptions options;
  for (int i = 0; i < argc; ++i) {
    const std::string_view arg = argv[i];
    std::string error;
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      *exit_code = 0;
      return std::nullopt;
    }
    const bool known = TakeOption("--socket", argc, argv, &i, &options.socket, &error) ||
                       TakeOption("--state", argc, argv, &i, &options.state_dir, &error);
    if (!known) error = "unknown argument " + std::string(arg);
    if (!error.empty()) {
      std::fprintf(stderr, "teleroute plugin: %s\n%s", error.c_str(), kUsage);
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
    NetlinkNetworkOs os;
    FixedRouteSource routes;
    TelerouteDriver driver(os, routes, options->state_dir);
    PluginServer server(options->socket, {"NetworkDriver"});
    server.AddRoutes(NetworkDriverRoutes(driver));
    server.Start();
    const int signal = shutdown.Wait();
    spdlog::info("signal {}: stopping", signal);
    server.Stop();
  } catch (const std::exception& error) {
    spdlog::error("teleroute plugin: {}", error.what());
    return 1;
  }
  spdlog::info("stopped");
  return 0;
}

}  // namespace tp::teleroute
