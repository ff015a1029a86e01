// What every command runs with: the process's streams and environment (CliIo), and the outside
// world it acts on (CliServices: Docker, the daemon's control API, the image builder, the plugin
// installer, time).
// main wires the real ones; tests give fakes, so that every command runs in-process.
#pragma once

#include <ostream>

#include "cli/clock.h"
#include "cli/context.h"
#include "cli/daemon_control.h"
#include "cli/docker_client.h"
#include "cli/engagement_guard.h"
#include "cli/engagement_observer.h"
#include "cli/host_daemon.h"
#include "cli/images.h"
#include "cli/plugins.h"
#include "cli/stop_source.h"
#include "webui/assets.h"

namespace tp::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;  // the command could not do its job; the message says why
inline constexpr int kExitUsage = 2;    // bad arguments; the message says what to do

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  EnvironmentLookup environment;
};

struct CliServices {
  DockerApi& docker;
  DaemonControlFactory daemon_control;  // for the control API published on 127.0.0.1:port
  ImageBuilder& image_builder;
  PluginInstaller& plugin_installer;
  Clock& clock;
  // Keeps an engagement from outliving a killed command (none: unguarded, as in tests).
  EngagementGuardFactory engagement_guard = nullptr;
  // The page `telepresence ui` serves (the binary's embedded build of ui/; none in tests).
  webui::AssetTable ui_assets{};
  // Where an engagement's stop request comes from (none: Ctrl-C, StopSignals), where its handler's
  // docker run writes, and who hears of its steps (none: nobody). `telepresence ui` sets them.
  StopSourceFactory stop_source = nullptr;
  ChildStreams handler_streams = ChildStreams::kInherited;
  EngagementObserver* engagement_observer = nullptr;
  // The daemons of `connect` without --docker (none: this build cannot run one on the host).
  HostDaemons* host_daemons = nullptr;
  // Whether this host's kernel has IPv6 (main: /proc/sys/net/ipv6 exists). With it, the daemon
  // container gets IPv6 and a dual-stack cluster a dual-stack Teleroute network.
  bool kernel_has_ipv6 = false;
};

}  // namespace tp::cli
