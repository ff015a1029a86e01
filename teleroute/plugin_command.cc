#include "teleroute/plugin_command.h"

#include "common/plugin_command.h"
#include "common/plugin_server.h"
#include "teleroute/daemon_route_watcher.h"
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
    "          [-o subnets=CIDR,CIDR...] [-o control=PORT] [-o bridge=NAME]\n"
    "          [--ipv6 --subnet CIDR6 -o daemon6=IP6] NAME\n"
    "  daemon   the daemon container's IPv4 address on the network (required)\n"
    "  daemon6  its IPv6 address there (required with --ipv6: the network is then dual stack)\n"
    "  subnets  cluster subnets (IPv4 and IPv6) that containers reach via the daemon (then\n"
    "           followed: the daemon's control API is asked every second for the cluster's\n"
    "           subnets)\n"
    "  control  the daemon's control API port (default 8787)\n"
    "  bridge   host bridge name (default tr-<first 12 characters of the network id>)\n"
    "Environment: DEBUG=1 logs every request.\n";

// How often each network's daemon is asked for the cluster's subnets.
constexpr std::chrono::seconds kRouteCheckInterval{1};

}  // namespace

std::optional<PluginCommandOptions> ParsePluginCommandArgs(int argc, char** argv, int* exit_code) {
  PluginCommandOptions options;
  if (!ParsePluginFlags(argc, argv,
                        {{"--socket", &options.socket}, {"--state", &options.state_dir}},
                        "teleroute plugin", kUsage, exit_code)) {
    return std::nullopt;
  }
  return options;
}

int RunPluginCommand(int argc, char** argv, ShutdownSignal& shutdown) {
  int exit_code = 0;
  std::optional<PluginCommandOptions> options = ParsePluginCommandArgs(argc, argv, &exit_code);
  if (!options) return exit_code;
  return RunPlugin("teleroute plugin", [&] {
    NetlinkNetworkOs os;
    FixedRouteSource routes;
    TelerouteDriver driver(os, routes, options->state_dir);
    DaemonRouteWatcher watcher(driver, kRouteCheckInterval);
    PluginServer server(options->socket, {"NetworkDriver"});
    server.AddRoutes(NetworkDriverRoutes(driver));
    ServeUntilShutdown(server, shutdown);
  });
}

}  // namespace tp::teleroute
