#include "cli/docker_engine_api.h"

#include <atomic>
#include <cstdlib>
#include <thread>

#include "cli/log_tail.h"
#include "cli/stop_signals.h"
#include "sync/mutex.h"

namespace tp::cli {
namespace {

using std::chrono::milliseconds;

// How long a `docker build` may take.
constexpr std::chrono::minutes kBuildTimeout{15};
// How often ForegroundRun looks at its child while waiting for signals.
constexpr milliseconds kChildPollInterval{50};
// How long enabling a plugin may take (it starts the plugin and waits for its socket).
constexpr milliseconds kPluginEnableDeadline{60000};
// Pulling (or creating) a plugin of a few MB from a registry, or from a file.
constexpr milliseconds kPluginPullDeadline{180000};
// docker stop's grace period before SIGKILL.
constexpr std::chrono::seconds kStopGrace{10};
// How far back a stop watch looks (a stop just before the watch began counts).
constexpr std::chrono::seconds kStopWatchLookBack{5};
// How far back an address watch looks (docker run may start the container before the watch).
constexpr std::chrono::seconds kAddressWatchLookBack{2};
// How long a stop watch follows the events at most (longer than any wait of the CLI).
constexpr std::chrono::hours kStopWatchDeadline{1};
// How long FollowLogs follows a container at most (a day of engagement).
constexpr std::chrono::hours kStreamFollowDeadline{24};
// How long a stopped container's last log lines may take to arrive after its stop was seen.
constexpr milliseconds kLogSettleTime{1000};
// How long reading a stopped container's whole log once more may take.
constexpr milliseconds kLogRereadDeadline{2000};
// Each engine call's deadline (creating a container or a plugin's volume may take a while).
constexpr std::chrono::seconds kEngineCallDeadline{60};

CliError Failed(const docker::EngineError& error) { return CliError{error.message}; }

class ChildForegroundRun : public ForegroundRun {
 public:
  ChildForegroundRun(const StopSource& stop, ChildProcess child)
      : stop_(stop), child_(std::move(child)) {}

  Outcome Wait(milliseconds timeout) override {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (true) {
      if (std::optional<ExitCode> code = child_.TryWait()) return {Event::kExited, *code};
      auto left =
          std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return {Event::kRunning, 0};
      if (stop_.WaitFor(std::min(left, kChildPollInterval))) return {Event::kInterrupted, 0};
    }
  }

 private:
  const StopSource& stop_;  // outlives the run (the caller's)
  ChildProcess child_;
};

// One stream of the engine (a log, the events) followed on a thread of its own until it ends or
// this is destroyed, which cancels it and waits for the thread.
class EngineStreamThread : public StreamFollow {
 public:
  explicit EngineStreamThread(std::function<void(docker::StreamCancel*)> follow)
      : thread_([this, follow = std::move(follow)] { follow(&cancel_); }) {}
  ~EngineStreamThread() override {
    cancel_.Cancel();
    thread_.join();
  }

 private:
  docker::StreamCancel cancel_;
  std::thread thread_;  // last: starts once cancel_ is there
};

// Follows the engine's events for the container's die or destroy, and its log, each on a thread
// of its own.
class EngineContainerWatch : public ContainerWatch {
 public:
  EngineContainerWatch(const docker::EngineClient& engine, const std::string& id)
      : engine_(engine),
        id_(id),
        events_thread_([this] { FollowEvents(); }),
        log_thread_([this] { FollowLog(); }) {}
  ~EngineContainerWatch() override {
    cancel_events_.Cancel();
    cancel_log_.Cancel();
    events_thread_.join();
    log_thread_.join();
  }
  bool Stopped() override { return stopped_.load(); }
  std::vector<std::string> LastLogLines() override {
    std::vector<std::string> followed;
    {
      MutexLock lock(log_mutex_);
      // Asked when the container stopped (or seems to): its last lines may still be on their way
      // (the log and the events are two streams); its followed log ends when they are all there.
      log_ended_changed_.WaitUntil(log_mutex_, std::chrono::steady_clock::now() + kLogSettleTime,
                                   [this]() REQUIRES(log_mutex_) { return log_ended_; });
      followed = log_.Lines();
    }
    // dockerd 20.10 may end a followed log before its last lines (seen here with a line written
    // just before the exit): the log read once more, whole, has them, unless the container
    // is gone already (--rm).
    std::optional<std::vector<std::string>> whole = ReadWholeLog();
    return whole ? *whole : followed;
  }

 private:
  void FollowEvents() {
    (void)engine_.Events(
        {{"type", {"container"}}, {"container", {id_}}, {"event", {"die", "destroy"}}},
        std::chrono::system_clock::now() - kStopWatchLookBack, kStopWatchDeadline,
        [this](const docker::EngineEvent&) {
          stopped_ = true;
          return false;
        },
        &cancel_events_);
  }
  // The container's last lines, read once (not followed); nullopt when they cannot be read.
  std::optional<std::vector<std::string>> ReadWholeLog() const {
    LogTail tail(kLogLines);
    const docker::EngineStatus read = engine_.Logs(id_, /*follow=*/false, kLogRereadDeadline,
                                                   [&tail](const docker::LogDemuxer::Frame& frame) {
                                                     tail.Feed(frame.payload);
                                                     return true;
                                                   });
    if (!read.ok()) return std::nullopt;
    return tail.Lines();
  }
  void FollowLog() {
    (void)engine_.Logs(
        id_, /*follow=*/true, kStopWatchDeadline,
        [this](const docker::LogDemuxer::Frame& frame) {
          MutexLock lock(log_mutex_);
          log_.Feed(frame.payload);
          return true;
        },
        &cancel_log_);
    MutexLock lock(log_mutex_);
    log_ended_ = true;
    log_ended_changed_.NotifyAll();
  }

  const docker::EngineClient engine_;
  const std::string id_;
  std::atomic<bool> stopped_{false};
  docker::StreamCancel cancel_events_;
  docker::StreamCancel cancel_log_;
  Mutex log_mutex_;
  CondVar log_ended_changed_;
  LogTail log_ GUARDED_BY(log_mutex_){kLogLines};
  bool log_ended_ GUARDED_BY(log_mutex_) = false;
  // Last: they start after the members they use.
  std::thread events_thread_;
  std::thread log_thread_;
};

// Follows the engine's container start and network connect events on a thread of its own; on the
// container's start or a connect to the network, inspects the network once for the address.
class EventAddressWatch : public AddressWatch {
 public:
  EventAddressWatch(const docker::EngineClient& engine, std::string network, std::string container)
      : network_(std::move(network)),
        container_(std::move(container)),
        thread_([this, engine] { Follow(engine); }) {}
  ~EventAddressWatch() override {
    cancel_.Cancel();
    thread_.join();
  }
  std::optional<std::string> Address() override {
    MutexLock lock(mutex_);
    return address_;
  }
  std::string Failure() override {
    MutexLock lock(mutex_);
    return failure_;
  }

 private:
  bool Concerns(const docker::EngineEvent& event) const {
    const auto name = event.attributes.find("name");
    if (name == event.attributes.end()) return false;
    if (event.type == "container") return event.action == "start" && name->second == container_;
    return event.type == "network" && event.action == "connect" && name->second == network_;
  }
  // One inspection; true when it found the address (the stream then ends).
  bool Inspect(const docker::EngineClient& engine) {
    auto network = engine.InspectNetwork(network_);
    if (!network.ok() || !network.value()) return false;
    std::optional<std::string> address = ContainerAddressIn(*network.value(), container_);
    if (!address) return false;
    MutexLock lock(mutex_);
    address_ = std::move(address);
    return true;
  }
  void Follow(const docker::EngineClient& engine) {
    const docker::EngineStatus followed = engine.Events(
        {{"type", {"container", "network"}}, {"event", {"start", "connect"}}},
        std::chrono::system_clock::now() - kAddressWatchLookBack, kStopWatchDeadline,
        [&](const docker::EngineEvent& event) { return !Concerns(event) || !Inspect(engine); },
        &cancel_);
    MutexLock lock(mutex_);
    if (!address_ && !cancel_.cancelled()) {
      failure_ = followed.ok() ? "Docker's event stream ended" : followed.error().message;
    }
  }

  const std::string network_;
  const std::string container_;
  Mutex mutex_;
  std::optional<std::string> address_ GUARDED_BY(mutex_);
  std::string failure_ GUARDED_BY(mutex_);
  docker::StreamCancel cancel_;
  std::thread thread_;  // last: starts after the members it uses
};

}  // namespace

std::unique_ptr<DockerEngineApi> DockerEngineApi::FromEnvironment() {
  const char* docker_host = std::getenv("DOCKER_HOST");
  auto socket = docker::SocketPathFromDockerHost(
      docker_host ? std::optional<std::string_view>(docker_host) : std::nullopt);
  if (!socket.ok()) {
    return std::make_unique<DockerEngineApi>(docker::EngineClient::Unusable(socket.error()));
  }
  return std::make_unique<DockerEngineApi>(
      docker::EngineClient(socket.value(), kEngineCallDeadline));
}

Result<std::optional<std::string>> DockerEngineApi::ContainerState(const std::string& container) {
  auto info = engine_.InspectContainer(container);
  if (!info.ok()) return Failed(info.error());
  if (!info.value()) return std::optional<std::string>();
  return std::optional<std::string>(info.value()->state);
}

Result<bool> DockerEngineApi::ImageExists(const std::string& image) {
  auto info = engine_.InspectImage(image);
  if (!info.ok()) return Failed(info.error());
  return info.value().has_value();
}

Result<std::vector<std::string>> DockerEngineApi::ListImageTags() {
  auto tags = engine_.ListImageTags();
  if (!tags.ok()) return Failed(tags.error());
  return tags.value();
}

Result<std::string> DockerEngineApi::RunDetached(const docker::ContainerSpec& spec) {
  docker::EngineResult<std::string> id = engine_.RunContainer(spec);
  if (!id.ok()) return Failed(id.error());
  return id.value();
}

Result<std::unique_ptr<ContainerWatch>> DockerEngineApi::WatchContainer(const std::string& id) {
  return std::unique_ptr<ContainerWatch>(std::make_unique<EngineContainerWatch>(engine_, id));
}

Result<std::unique_ptr<AddressWatch>> DockerEngineApi::WatchForAddress(
    const std::string& network, const std::string& container) {
  return std::unique_ptr<AddressWatch>(
      std::make_unique<EventAddressWatch>(engine_, network, container));
}

Result<DaemonEndpoint> DockerEngineApi::ControlEndpoint(const std::string& container) {
  auto info = engine_.InspectContainer(container);
  if (!info.ok()) return Failed(info.error());
  if (!info.value()) return CliError{"No such container: " + container};
  return ControlEndpointOf(*info.value());
}

Result<std::vector<std::string>> DockerEngineApi::ListLabelled(DockerResource kind,
                                                               const std::string& label) {
  const docker::Filters filters{{"label", {label}}};
  std::vector<std::string> names;
  switch (kind) {
    case DockerResource::kContainer: {
      auto containers = engine_.ListContainers(filters);
      if (!containers.ok()) return Failed(containers.error());
      for (const auto& container : containers.value()) names.push_back(container.name);
      break;
    }
    case DockerResource::kNetwork: {
      auto networks = engine_.ListNetworks(filters);
      if (!networks.ok()) return Failed(networks.error());
      for (const auto& network : networks.value()) names.push_back(network.name);
      break;
    }
    case DockerResource::kVolume: {
      auto volumes = engine_.ListVolumes(filters);
      if (!volumes.ok()) return Failed(volumes.error());
      for (const auto& volume : volumes.value()) names.push_back(volume.name);
      break;
    }
  }
  return names;
}

Status DockerEngineApi::Remove(DockerResource kind, const std::vector<std::string>& names) {
  for (const std::string& name : names) {
    docker::EngineStatus removed = docker::Done{};
    switch (kind) {
      case DockerResource::kContainer:
        removed = engine_.RemoveContainer(name, /*force=*/true);
        break;
      case DockerResource::kNetwork:
        removed = engine_.RemoveNetwork(name);
        break;
      case DockerResource::kVolume:
        removed = engine_.RemoveVolume(name, /*force=*/true);
        break;
    }
    if (!removed.ok()) return Failed(removed.error());
  }
  return Ok{};
}

Result<ExitCode> DockerEngineApi::RunAttached(const Argv& argv) {
  return tp::cli::RunAttached(argv, ChildStreams::kInherited);
}

Result<std::optional<docker::PluginInfo>> DockerEngineApi::InspectPlugin(
    const std::string& plugin) {
  auto info = engine_.InspectPlugin(plugin);
  if (!info.ok()) return Failed(info.error());
  return std::move(info).value();
}

Status DockerEngineApi::EnablePlugin(const std::string& plugin) {
  docker::EngineStatus enabled = engine_.EnablePlugin(plugin, kPluginEnableDeadline);
  if (!enabled.ok()) return Failed(enabled.error());
  return Ok{};
}

Status DockerEngineApi::DisablePlugin(const std::string& plugin, bool force) {
  docker::EngineStatus disabled = engine_.DisablePlugin(plugin, force);
  if (!disabled.ok()) return Failed(disabled.error());
  return Ok{};
}

namespace {

// Reads what `remote` asks to be granted, then runs `grant` with that; what was granted.
template <typename Grant>
Result<std::vector<docker::PluginPrivilege>> GrantingWhatItAsks(const docker::EngineClient& engine,
                                                                const std::string& remote,
                                                                Grant grant) {
  auto privileges = engine.PluginPrivileges(remote);
  if (!privileges.ok()) return Failed(privileges.error());
  docker::EngineStatus done = grant(privileges.value());
  if (!done.ok()) return Failed(done.error());
  return std::move(privileges).value();
}

}  // namespace

Result<std::vector<docker::PluginPrivilege>> DockerEngineApi::InstallPlugin(
    const std::string& remote, const std::string& name) {
  return GrantingWhatItAsks(engine_, remote, [&](const auto& privileges) {
    return engine_.InstallPlugin(remote, name, privileges, kPluginPullDeadline);
  });
}

Result<std::vector<docker::PluginPrivilege>> DockerEngineApi::UpgradePlugin(
    const std::string& name, const std::string& remote) {
  return GrantingWhatItAsks(engine_, remote, [&](const auto& privileges) {
    return engine_.UpgradePlugin(name, remote, privileges, kPluginPullDeadline);
  });
}

Status DockerEngineApi::CreatePlugin(const std::string& name, const std::string& tar) {
  docker::EngineStatus created = engine_.CreatePlugin(name, tar, kPluginPullDeadline);
  if (!created.ok()) return Failed(created.error());
  return Ok{};
}

Result<std::vector<DockerNetwork>> DockerEngineApi::ListNetworks() {
  auto networks = engine_.ListNetworks();
  if (!networks.ok()) return Failed(networks.error());
  return std::move(networks).value();
}

Result<std::optional<DockerNetwork>> DockerEngineApi::InspectNetwork(const std::string& network) {
  auto info = engine_.InspectNetwork(network);
  if (!info.ok()) return Failed(info.error());
  return std::move(info).value();
}

Status DockerEngineApi::CreateNetwork(const docker::NetworkSpec& spec) {
  auto created = engine_.CreateNetwork(spec);
  if (!created.ok()) return Failed(created.error());
  return Ok{};
}

Status DockerEngineApi::ConnectToNetwork(const std::string& network, const std::string& container,
                                         const std::string& ip, const std::string& ip6) {
  docker::EngineStatus connected = engine_.ConnectNetwork(network, container, ip, ip6);
  if (!connected.ok()) return Failed(connected.error());
  return Ok{};
}

Status DockerEngineApi::DisconnectFromNetwork(const std::string& network,
                                              const std::string& container) {
  docker::EngineStatus disconnected = engine_.DisconnectNetwork(network, container, /*force=*/true);
  if (!disconnected.ok()) return Failed(disconnected.error());
  return Ok{};
}

Status DockerEngineApi::CreateVolume(const docker::VolumeSpec& spec) {
  docker::EngineStatus created = engine_.CreateVolume(spec);
  if (!created.ok()) return Failed(created.error());
  return Ok{};
}

// Runs a docker command that prints an id as its last line (docker build -q, docker run -d).
Result<std::string> DockerEngineApi::RunForId(const Argv& argv, milliseconds timeout) {
  Result<CapturedOutput> result = RunCaptured(argv, timeout);
  if (!result.ok()) return CliError{result.error().message + "; is Docker installed?"};
  const CapturedOutput& output = result.value();
  if (output.exit_code != 0) {
    return CliError{DockerFailureMessage(argv, output.exit_code, output.err)};
  }
  std::vector<std::string> lines = OutputLines(output.out);
  if (lines.empty()) return CliError{"docker printed no id"};
  return lines.back();
}

Result<std::string> DockerEngineApi::BuildImage(const Argv& argv) {
  return RunForId(argv, kBuildTimeout);
}

Result<std::string> DockerEngineApi::RunDetachedArgv(const Argv& argv) {
  return RunForId(argv, kEngineCallDeadline);
}

Status DockerEngineApi::StopContainer(const std::string& container) {
  docker::EngineStatus stopped = engine_.StopContainer(container, kStopGrace);
  if (!stopped.ok()) return Failed(stopped.error());
  return Ok{};
}

Result<std::unique_ptr<ForegroundRun>> DockerEngineApi::StartForeground(const Argv& argv,
                                                                        const StopSource& stop,
                                                                        ChildStreams streams) {
  Result<ChildProcess> child = ChildProcess::Spawn(argv, streams);
  if (!child.ok()) return CliError{child.error().message + "; is Docker installed?"};
  return std::unique_ptr<ForegroundRun>(
      std::make_unique<ChildForegroundRun>(stop, std::move(child).value()));
}

Result<std::unique_ptr<StreamFollow>> DockerEngineApi::FollowEvents(
    const docker::Filters& filters,
    std::function<void(const docker::EngineEvent& event)> on_event) {
  return std::unique_ptr<StreamFollow>(std::make_unique<EngineStreamThread>(
      [engine = engine_, filters, on_event = std::move(on_event)](docker::StreamCancel* cancel) {
        (void)engine.Events(
            filters, std::chrono::system_clock::now(), kStreamFollowDeadline,
            [&](const docker::EngineEvent& event) {
              on_event(event);
              return true;
            },
            cancel);
      }));
}

Result<std::unique_ptr<StreamFollow>> DockerEngineApi::FollowLogs(
    const std::string& container, std::function<void(std::string_view line)> on_line) {
  return std::unique_ptr<StreamFollow>(std::make_unique<EngineStreamThread>(
      [engine = engine_, container, on_line = std::move(on_line)](docker::StreamCancel* cancel) {
        docker::LineSplitter lines;
        (void)engine.Logs(
            container, /*follow=*/true, kStreamFollowDeadline,
            [&](const docker::LogDemuxer::Frame& frame) {
              for (const std::string& line : lines.Feed(frame.payload)) on_line(line);
              return true;
            },
            cancel);
      }));
}

}  // namespace tp::cli
