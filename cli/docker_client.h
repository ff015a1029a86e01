// What the CLI asks of Docker, as an interface (DockerApi) so that the commands can be tested with
// a fake; DockerEngineApi (docker_engine_api.h) is the real one. Errors are sentences that quote
// Docker's own message and, when dockerd does not answer, say how to start it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/clock.h"
#include "cli/docker_command.h"
#include "cli/docker_network.h"
#include "cli/process.h"
#include "cli/result.h"
#include "cli/stop_source.h"
#include "docker_engine/engine_types.h"

namespace tp::cli {

// A `docker run` in the foreground (with this process's stdin, stdout and stderr on the command
// line). A stop request (StopSource: Ctrl-C, or the page's button) does not end it: Wait reports
// it, so that the caller can stop the container and clean up. Destroying it kills (SIGKILL) a
// docker run still running.
class ForegroundRun {
 public:
  enum class Event { kRunning, kExited, kInterrupted };
  struct Outcome {
    Event event = Event::kRunning;
    ExitCode exit_code = 0;  // for kExited
  };
  virtual ~ForegroundRun() = default;
  // Waits up to `timeout` for docker run to end or a stop request; kRunning when neither came.
  virtual Outcome Wait(std::chrono::milliseconds timeout) = 0;
};

// A stream of the engine (a container's log, its events) followed on a thread of its own
// (DockerApi::FollowLogs, FollowEvents); destroying it stops following and waits for the thread.
class StreamFollow {
 public:
  virtual ~StreamFollow() = default;
};

// Watches one container from just after its start: whether it has stopped (died or was
// removed), and the last lines it wrote (stdout and stderr), which a container run with --rm
// takes along when it goes. Neither call does I/O: the watch follows Docker's event stream and
// the container's log by itself until it is destroyed.
class ContainerWatch {
 public:
  // How many of the container's last log lines the watch keeps.
  static constexpr size_t kLogLines = 12;

  virtual ~ContainerWatch() = default;
  virtual bool Stopped() = 0;
  // The container's last lines, oldest first, for when it stopped (or seems to): waits up to a
  // second for the last of them. Empty when it wrote nothing, or went (--rm) before the watch
  // could read its log.
  virtual std::vector<std::string> LastLogLines() = 0;
};

// Finds the address a container gets on a network. Address() does no I/O: the watch follows
// Docker's events by itself (the container's start, connects to the network; also those of the
// few seconds before the watch began) and inspects the network once per such event, until it has
// the address or is destroyed.
class AddressWatch {
 public:
  virtual ~AddressWatch() = default;
  // The address (without prefix length) once found; nullopt until then.
  virtual std::optional<std::string> Address() = 0;
  // Why the watch stopped without an address (Docker's events broke off); "" while it watches.
  virtual std::string Failure() = 0;
};

class DockerApi {
 public:
  virtual ~DockerApi() = default;

  // The container's state ("running", "exited", "created", ...); nullopt when it does not exist.
  virtual Result<std::optional<std::string>> ContainerState(const std::string& container) = 0;
  virtual Result<bool> ImageExists(const std::string& image) = 0;
  // Every tag of the engine's images ("name:tag"), sorted.
  virtual Result<std::vector<std::string>> ListImageTags() = 0;
  // Creates and starts the container (like docker run -d, never pulling); its id.
  virtual Result<std::string> RunDetached(const docker::ContainerSpec& spec) = 0;
  // Starts watching the container `id` (see ContainerWatch); a stop shortly before the call
  // counts too.
  virtual Result<std::unique_ptr<ContainerWatch>> WatchContainer(const std::string& id) = 0;
  // Starts watching for the address `container` (a name) gets on `network` (AddressWatch).
  virtual Result<std::unique_ptr<AddressWatch>> WatchForAddress(const std::string& network,
                                                                const std::string& container) = 0;
  // Where the daemon container's control API is published, and its control token.
  virtual Result<DaemonEndpoint> ControlEndpoint(const std::string& container) = 0;
  // The names of the objects of that kind carrying the label ("key=value").
  virtual Result<std::vector<std::string>> ListLabelled(DockerResource kind,
                                                        const std::string& label) = 0;
  // Removes them (containers by force). Removing nothing succeeds.
  virtual Status Remove(DockerResource kind, const std::vector<std::string>& names) = 0;
  // Runs a `docker run ...` argv in the foreground with this process's streams; its exit code.
  virtual Result<ExitCode> RunAttached(const Argv& argv) = 0;

  // A managed plugin ("teleroute:latest"): nullopt when it is not installed.
  virtual Result<std::optional<docker::PluginInfo>> InspectPlugin(const std::string& plugin) = 0;
  virtual Status EnablePlugin(const std::string& plugin) = 0;
  // Stops it; `force`: also while volumes or networks use it (they stay, for its next start).
  virtual Status DisablePlugin(const std::string& plugin, bool force) = 0;
  // Pulls `remote` ("registry:5000/telemount:0.1.0") and installs it as `name`
  // ("telemount:latest"), granting what it asks for; disabled until EnablePlugin. What it was
  // granted.
  virtual Result<std::vector<docker::PluginPrivilege>> InstallPlugin(const std::string& remote,
                                                                     const std::string& name) = 0;
  // Gives the disabled plugin `name` the rootfs and config of `remote`, keeping its settings and
  // its state; what it was granted.
  virtual Result<std::vector<docker::PluginPrivilege>> UpgradePlugin(const std::string& name,
                                                                     const std::string& remote) = 0;
  // Creates the plugin `name` from a tar of its config.json and rootfs/; disabled.
  virtual Status CreatePlugin(const std::string& name, const std::string& tar) = 0;
  // Every network, with its subnets and options (not its containers: InspectNetwork has them).
  virtual Result<std::vector<DockerNetwork>> ListNetworks() = 0;
  // One network by name; nullopt when it does not exist.
  virtual Result<std::optional<DockerNetwork>> InspectNetwork(const std::string& network) = 0;
  virtual Status CreateNetwork(const docker::NetworkSpec& spec) = 0;
  // docker network connect --ip IP [--ip6 IP6] NETWORK CONTAINER ("" for no IP6)
  virtual Status ConnectToNetwork(const std::string& network, const std::string& container,
                                  const std::string& ip, const std::string& ip6) = 0;
  // docker network disconnect -f NETWORK CONTAINER
  virtual Status DisconnectFromNetwork(const std::string& network,
                                       const std::string& container) = 0;

  virtual Status CreateVolume(const docker::VolumeSpec& spec) = 0;
  // Runs a `docker build -q ...` argv (DockerBuildCommand); the built image's id.
  virtual Result<std::string> BuildImage(const Argv& argv) = 0;
  // Runs a `docker run -d ...` argv (the user's own words, honoured exactly); the container's id.
  virtual Result<std::string> RunDetachedArgv(const Argv& argv) = 0;
  // docker stop CONTAINER (a container that is gone already counts as stopped).
  virtual Status StopContainer(const std::string& container) = 0;
  // Starts a `docker run ...` argv in the foreground (see ForegroundRun), its streams as given;
  // its Wait reports `stop`'s requests (which must outlive the run).
  virtual Result<std::unique_ptr<ForegroundRun>> StartForeground(const Argv& argv,
                                                                 const StopSource& stop,
                                                                 ChildStreams streams) = 0;
  // Follows the container's log (stdout and stderr, from its start) on a thread of its own:
  // each line (without its newline) goes to on_line until the container's log ends or the
  // StreamFollow is destroyed (which waits for that thread).
  virtual Result<std::unique_ptr<StreamFollow>> FollowLogs(
      const std::string& container, std::function<void(std::string_view line)> on_line) = 0;
  // Follows the engine's events that match `filters`, from now on, on a thread of its own: each
  // goes to on_event until the StreamFollow is destroyed.
  virtual Result<std::unique_ptr<StreamFollow>> FollowEvents(
      const docker::Filters& filters,
      std::function<void(const docker::EngineEvent& event)> on_event) = 0;
};

// How long RemoveVolumeWithin retries by default: Docker releases a volume just after the
// container that used it is removed, so the first tries may find it still in use.
inline constexpr std::chrono::milliseconds kVolumeRemoveDeadline{5000};
inline constexpr std::chrono::milliseconds kVolumeRemoveInterval{200};

// Removes `volume`, retrying every kVolumeRemoveInterval until it goes or `within` has passed;
// the last failure when it never went.
Status RemoveVolumeWithin(DockerApi& docker, Clock& clock, const std::string& volume,
                          std::chrono::milliseconds within = kVolumeRemoveDeadline);

// The sentence for a docker command that failed: the command (first words), docker's message,
// and a hint when dockerd is not reachable. Pure; exposed for tests.
std::string DockerFailureMessage(const Argv& argv, ExitCode exit_code,
                                 std::string_view stderr_text);

}  // namespace tp::cli
