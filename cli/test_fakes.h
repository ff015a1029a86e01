// Test doubles for the CLI's services: a Docker that keeps containers, images, plugins, networks
// and labelled objects in maps, a daemon control API that answers from a script, an image builder
// and a plugin installer that record what they were asked, and a clock that advances only when
// slept on (or by hand).
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "cli/services.h"
#include "cli/version.h"

namespace tp::cli::testing {

class FakeClock : public Clock {
 public:
  SteadyTime Now() override { return now_; }
  void SleepFor(std::chrono::milliseconds duration) override { now_ += duration; }
  void Advance(std::chrono::milliseconds duration) { now_ += duration; }

 private:
  SteadyTime now_{};
};

class FakeDocker : public DockerApi {
 public:
  struct Container {
    std::string state = "running";
    std::string label{};  // "tp.daemon=<ctx>", or empty
  };

  std::map<std::string, Container> containers;
  std::map<std::string, std::vector<std::string>> log_lines;  // what WatchContainer's watch saw
  std::set<std::string> images{std::string(kDaemonImage), std::string(kCurlImage)};
  std::map<std::string, std::vector<std::string>> labelled_networks;  // by label
  std::map<std::string, std::vector<std::string>> labelled_volumes;   // by label
  // Installed plugins: enabled or not.
  std::map<std::string, bool> plugins{{"teleroute:latest", true}, {"telemount:latest", true}};
  // Their versions when not this telepresence's own.
  std::map<std::string, std::string> plugin_versions;
  // What a registry holds: reference -> the version of the plugin there.
  std::map<std::string, std::string> registry_plugins;
  std::vector<std::string> plugin_pulls;      // "REMOTE as NAME"
  std::vector<std::string> plugin_upgrades;   // "NAME to REMOTE"
  std::vector<std::string> plugin_creates;    // "NAME from N bytes"
  std::vector<std::string> disabled_plugins;  // "NAME" or "NAME (forced)"
  // Every network by name (ListNetworks, InspectNetwork, CreateNetwork, Connect/Disconnect).
  std::map<std::string, DockerNetwork> networks{
      {"bridge",
       DockerNetwork{.name = "bridge", .driver = "bridge", .subnets = {"172.17.0.0/16"}}}};
  std::optional<std::string> fail_network_create;   // `docker network create` fails so
  std::optional<std::string> fail_network_connect;  // `docker network connect` fails so
  uint16_t published_port = 49153;
  std::string control_token = "t0ken";  // what ControlEndpoint finds in the daemon's environment
  ExitCode attached_exit_code = 0;
  // What RunDetached does besides recording the spec; by default the container runs.
  std::function<void(FakeDocker&, const docker::ContainerSpec&)> on_run_detached =
      [](FakeDocker& docker, const docker::ContainerSpec& spec) {
        docker.containers[spec.name] = {"running", LabelIn(spec)};
      };
  std::optional<std::string> fail_everything;  // docker itself fails (dockerd down)

  std::vector<docker::ContainerSpec> run_detached;
  std::vector<Argv> run_attached;
  std::vector<std::string> removed;  // containers, networks and volumes, in order
  std::vector<std::string> enabled_plugins;
  std::vector<docker::NetworkSpec> network_creates;
  std::vector<Argv> network_connects;     // NetworkConnectCommand argvs
  std::vector<Argv> network_disconnects;  // NetworkDisconnectCommand argvs
  std::vector<docker::VolumeSpec> volume_creates;
  std::optional<std::string> fail_volume_create;  // `docker volume create` fails so
  std::function<void()> on_volume_create;         // runs inside each `docker volume create`
  std::vector<Argv> builds;
  Result<std::string> build_result = std::string("sha256:built");
  std::vector<std::string> stopped;
  std::vector<Argv> run_foreground;
  std::optional<std::string> fail_foreground_start;  // docker cannot be started
  // What the n-th ForegroundRun::Wait (from 0) of the last started run reports; by default
  // docker run exits at once with attached_exit_code.
  std::function<ForegroundRun::Outcome(FakeDocker&, int call)> foreground_script =
      [](FakeDocker& docker, int) {
        return ForegroundRun::Outcome{ForegroundRun::Event::kExited, docker.attached_exit_code};
      };
  // Whether the volume is still in use for its first n `volume rm` calls.
  std::map<std::string, int> volume_busy_for;

  Result<std::optional<std::string>> ContainerState(const std::string& container) override {
    if (fail_everything) return CliError{*fail_everything};
    auto found = containers.find(container);
    if (found == containers.end()) return std::optional<std::string>();
    return std::optional<std::string>(found->second.state);
  }
  Result<bool> ImageExists(const std::string& image) override {
    if (fail_everything) return CliError{*fail_everything};
    return images.contains(image);
  }
  Result<std::vector<std::string>> ListImageTags() override {
    if (fail_everything) return CliError{*fail_everything};
    return std::vector<std::string>(images.begin(), images.end());
  }
  Result<std::string> RunDetached(const docker::ContainerSpec& spec) override {
    if (fail_everything) return CliError{*fail_everything};
    run_detached.push_back(spec);
    on_run_detached(*this, spec);
    return kRunId + std::to_string(run_detached.size());
  }
  // Stopped when the container RunDetached started is gone or no longer running.
  class FakeContainerWatch : public ContainerWatch {
   public:
    FakeContainerWatch(FakeDocker& docker, std::string name)
        : docker_(docker), name_(std::move(name)) {}
    bool Stopped() override {
      auto found = docker_.containers.find(name_);
      return found == docker_.containers.end() || found->second.state != "running";
    }
    std::vector<std::string> LastLogLines() override { return docker_.log_lines[name_]; }

   private:
    FakeDocker& docker_;
    std::string name_;
  };
  Result<std::unique_ptr<ContainerWatch>> WatchContainer(const std::string& id) override {
    if (fail_everything) return CliError{*fail_everything};
    const size_t run = std::stoul(id.substr(kRunId.size()));
    return std::unique_ptr<ContainerWatch>(
        std::make_unique<FakeContainerWatch>(*this, run_detached.at(run - 1).name));
  }
  // Finds the address in `networks` whenever asked, as the real watch does on Docker's events;
  // fails with address_watch_failure once that is set.
  class FakeAddressWatch : public AddressWatch {
   public:
    FakeAddressWatch(FakeDocker& docker, std::string network, std::string container)
        : docker_(docker), network_(std::move(network)), container_(std::move(container)) {}
    std::optional<std::string> Address() override {
      auto found = docker_.networks.find(network_);
      if (found == docker_.networks.end()) return std::nullopt;
      return ContainerAddressIn(found->second, container_);
    }
    std::string Failure() override { return docker_.address_watch_failure; }

   private:
    FakeDocker& docker_;
    std::string network_;
    std::string container_;
  };
  std::vector<std::pair<std::string, std::string>> address_watches;  // network, container
  std::string address_watch_failure;
  Result<std::unique_ptr<AddressWatch>> WatchForAddress(const std::string& network,
                                                        const std::string& container) override {
    if (fail_everything) return CliError{*fail_everything};
    address_watches.emplace_back(network, container);
    return std::unique_ptr<AddressWatch>(
        std::make_unique<FakeAddressWatch>(*this, network, container));
  }
  Result<DaemonEndpoint> ControlEndpoint(const std::string& container) override {
    if (fail_everything) return CliError{*fail_everything};
    if (!containers.contains(container)) return CliError{"No such container: " + container};
    return DaemonEndpoint{.port = published_port, .token = control_token};
  }
  Result<std::vector<std::string>> ListLabelled(DockerResource kind,
                                                const std::string& label) override {
    if (fail_everything) return CliError{*fail_everything};
    std::vector<std::string> names;
    if (kind == DockerResource::kContainer) {
      for (const auto& [name, container] : containers) {
        if (container.label == label) names.push_back(name);
      }
    } else if (kind == DockerResource::kNetwork && labelled_networks.contains(label)) {
      names = labelled_networks[label];
    } else if (kind == DockerResource::kVolume && labelled_volumes.contains(label)) {
      names = labelled_volumes[label];
    }
    return names;
  }
  Status Remove(DockerResource kind, const std::vector<std::string>& names) override {
    if (fail_everything) return CliError{*fail_everything};
    for (const std::string& name : names) {
      if (kind == DockerResource::kVolume && volume_busy_for[name] > 0) {
        --volume_busy_for[name];
        return CliError{"docker volume rm -f " + name + " failed (exit 1): volume is in use"};
      }
      if (kind == DockerResource::kNetwork && networks.contains(name) &&
          !networks[name].containers.empty()) {
        return CliError{"docker network rm " + name +
                        " failed (exit 1): error while removing "
                        "network: network " +
                        name + " has active endpoints"};
      }
      removed.push_back(name);
      if (kind == DockerResource::kContainer) RemoveContainer(name);
      if (kind == DockerResource::kNetwork) {
        labelled_networks.clear();
        networks.erase(name);
      }
    }
    return Ok{};
  }
  // A container goes, and with it its endpoints (as dockerd does).
  void RemoveContainer(const std::string& name) {
    containers.erase(name);
    for (auto& [network_name, network] : networks)
      std::erase_if(network.containers, [&](auto& c) { return c.name == name; });
  }
  Result<ExitCode> RunAttached(const Argv& argv) override {
    run_attached.push_back(argv);
    return attached_exit_code;
  }
  Result<std::optional<docker::PluginInfo>> InspectPlugin(const std::string& plugin) override {
    if (fail_everything) return CliError{*fail_everything};
    auto found = plugins.find(plugin);
    if (found == plugins.end()) return std::optional<docker::PluginInfo>();
    auto version = plugin_versions.find(plugin);
    return std::optional<docker::PluginInfo>(docker::PluginInfo{
        .name = plugin,
        .enabled = found->second,
        .version =
            version == plugin_versions.end() ? std::string(TelepresenceVersion()) : version->second,
        .reference = "docker.io/library/" + plugin});
  }
  Status EnablePlugin(const std::string& plugin) override {
    if (fail_everything) return CliError{*fail_everything};
    if (!plugins.contains(plugin)) return CliError{"plugin \"" + plugin + "\" not found"};
    enabled_plugins.push_back(plugin);
    plugins[plugin] = true;
    return Ok{};
  }
  Status DisablePlugin(const std::string& plugin, bool force) override {
    if (fail_everything) return CliError{*fail_everything};
    if (!plugins.contains(plugin)) return CliError{"plugin \"" + plugin + "\" not found"};
    disabled_plugins.push_back(plugin + (force ? " (forced)" : ""));
    plugins[plugin] = false;
    return Ok{};
  }
  Result<std::vector<docker::PluginPrivilege>> InstallPlugin(const std::string& remote,
                                                             const std::string& name) override {
    if (fail_everything) return CliError{*fail_everything};
    if (plugins.contains(name)) return CliError{"plugin " + name + " already exists"};
    if (!registry_plugins.contains(remote)) {
      return CliError{"Docker cannot read the privileges of plugin " + remote + ": not found"};
    }
    plugin_pulls.push_back(remote + " as " + name);
    plugins[name] = false;
    plugin_versions[name] = registry_plugins.at(remote);
    return std::vector<docker::PluginPrivilege>{{"network", "", {"host"}}};
  }
  Result<std::vector<docker::PluginPrivilege>> UpgradePlugin(const std::string& name,
                                                             const std::string& remote) override {
    if (fail_everything) return CliError{*fail_everything};
    if (!plugins.contains(name)) return CliError{"plugin " + name + " not found"};
    if (plugins.at(name)) return CliError{"the plugin must be disabled before upgrading"};
    if (!registry_plugins.contains(remote)) return CliError{"no " + remote};
    plugin_upgrades.push_back(name + " to " + remote);
    plugin_versions[name] = registry_plugins.at(remote);
    return std::vector<docker::PluginPrivilege>{{"network", "", {"host"}}};
  }
  Status CreatePlugin(const std::string& name, const std::string& tar) override {
    if (fail_everything) return CliError{*fail_everything};
    if (plugins.contains(name)) return CliError{"plugin " + name + " already exists"};
    plugin_creates.push_back(name + " from " + std::to_string(tar.size()) + " bytes");
    plugins[name] = false;
    return Ok{};
  }
  Result<std::vector<DockerNetwork>> ListNetworks() override {
    if (fail_everything) return CliError{*fail_everything};
    std::vector<DockerNetwork> all;
    for (const auto& [name, network] : networks) all.push_back(network);
    return all;
  }
  Result<std::optional<DockerNetwork>> InspectNetwork(const std::string& network) override {
    if (fail_everything) return CliError{*fail_everything};
    auto found = networks.find(network);
    if (found == networks.end()) return std::optional<DockerNetwork>();
    return std::optional<DockerNetwork>(found->second);
  }
  Status CreateNetwork(const docker::NetworkSpec& spec) override {
    if (fail_everything) return CliError{*fail_everything};
    network_creates.push_back(spec);
    if (fail_network_create) return CliError{*fail_network_create};
    DockerNetwork network{
        .name = spec.name, .driver = spec.driver, .options = spec.options, .labels = spec.labels};
    for (const docker::IpamPool& pool : spec.pools) {
      network.subnets.push_back(pool.subnet);
      network.gateways.push_back(pool.gateway);
    }
    networks[network.name] = network;
    return Ok{};
  }
  Status ConnectToNetwork(const std::string& network, const std::string& container,
                          const std::string& ip, const std::string& ip6) override {
    if (fail_everything) return CliError{*fail_everything};
    network_connects.push_back(NetworkConnectCommand(network, container, ip, ip6));
    if (fail_network_connect) return CliError{*fail_network_connect};
    if (!networks.contains(network)) return CliError{"network " + network + " not found"};
    std::string length =
        networks[network].subnets.front().substr(networks[network].subnets.front().find('/'));
    networks[network].containers.push_back({container + "-id", container, ip + length});
    return Ok{};
  }
  Status DisconnectFromNetwork(const std::string& network, const std::string& container) override {
    if (fail_everything) return CliError{*fail_everything};
    network_disconnects.push_back(NetworkDisconnectCommand(network, container));
    if (!networks.contains(network)) return CliError{"network " + network + " not found"};
    std::erase_if(networks[network].containers,
                  [&](auto& c) { return c.id == container || c.name == container; });
    return Ok{};
  }

  Status CreateVolume(const docker::VolumeSpec& spec) override {
    volume_creates.push_back(spec);
    if (on_volume_create) on_volume_create();
    if (fail_volume_create) return CliError{*fail_volume_create};
    return Ok{};
  }
  Result<std::string> RunDetachedArgv(const Argv& argv) override {
    run_foreground.push_back(argv);
    return kRunId + std::to_string(run_foreground.size());
  }
  Result<std::string> BuildImage(const Argv& argv) override {
    builds.push_back(argv);
    return build_result;
  }
  Status StopContainer(const std::string& container) override {
    stopped.push_back(container);
    return Ok{};
  }
  // Reports a stop request first (as the real one does), else what the script says.
  class FakeForegroundRun : public ForegroundRun {
   public:
    FakeForegroundRun(FakeDocker& docker, const StopSource& stop) : docker_(docker), stop_(stop) {}
    Outcome Wait(std::chrono::milliseconds) override {
      if (stop_.Take()) return {Event::kInterrupted, 0};
      return docker_.foreground_script(docker_, calls_++);
    }

   private:
    FakeDocker& docker_;
    const StopSource& stop_;
    int calls_ = 0;
  };
  Result<std::unique_ptr<ForegroundRun>> StartForeground(const Argv& argv, const StopSource& stop,
                                                         ChildStreams) override {
    run_foreground.push_back(argv);
    if (fail_foreground_start) return CliError{*fail_foreground_start};
    return std::unique_ptr<ForegroundRun>(std::make_unique<FakeForegroundRun>(*this, stop));
  }

  class NoStreamFollow : public StreamFollow {};
  Result<std::unique_ptr<StreamFollow>> FollowLogs(const std::string&,
                                                   std::function<void(std::string_view)>) override {
    return std::unique_ptr<StreamFollow>(std::make_unique<NoStreamFollow>());
  }
  Result<std::unique_ptr<StreamFollow>> FollowEvents(
      const docker::Filters&, std::function<void(const docker::EngineEvent&)>) override {
    return std::unique_ptr<StreamFollow>(std::make_unique<NoStreamFollow>());
  }

  static std::string ValueAfter(const Argv& argv, std::string_view flag) {
    for (size_t i = 0; i + 1 < argv.size(); ++i) {
      if (argv[i] == flag) return argv[i + 1];
    }
    return "";
  }
  // "key=value" of the spec's first label ("" when none).
  static std::string LabelIn(const docker::ContainerSpec& spec) {
    if (spec.labels.empty()) return "";
    return spec.labels.begin()->first + "=" + spec.labels.begin()->second;
  }
  inline static const std::string kRunId = "0123456789ab-";
};

// Answers GET /status with what `status` returns for the n-th call (from 0).
// Other calls (Call) are answered by `call`, by default an error.
class FakeDaemonControl : public DaemonControl {
 public:
  using StatusScript = std::function<Result<nlohmann::json>(int call)>;
  using CallScript = std::function<Result<nlohmann::json>(
      std::string_view method, std::string_view path, const nlohmann::json& body)>;
  FakeDaemonControl(StatusScript status, std::function<Status()> quit, CallScript call = nullptr)
      : status_(std::move(status)), quit_(std::move(quit)), call_(std::move(call)) {}

  Result<nlohmann::json> GetStatus() override { return status_(calls_++); }
  Status Quit() override { return quit_(); }
  Result<nlohmann::json> Call(std::string_view method, std::string_view path,
                              const nlohmann::json& body) override {
    if (!call_) return CliError{"no answer"};
    return call_(method, path, body);
  }

 private:
  StatusScript status_;
  std::function<Status()> quit_;
  CallScript call_;
  int calls_ = 0;
};

class FakeImageBuilder : public ImageBuilder {
 public:
  std::vector<std::vector<std::string>> builds;
  std::function<Status(const std::vector<std::string>&)> build = [](const auto&) {
    return Status(Ok{});
  };

  Status Build(const std::vector<std::string>& images) override {
    builds.push_back(images);
    return build(images);
  }
};

class FakePluginInstaller : public PluginInstaller {
 public:
  std::vector<std::vector<std::string>> installs;
  std::function<Status(const std::vector<std::string>&)> install = [](const auto&) {
    return Status(Ok{});
  };

  Status Install(const std::vector<std::string>& plugins) override {
    installs.push_back(plugins);
    return install(plugins);
  }
};

// A /status body.
inline nlohmann::json StatusBody(bool connected, const std::string& error = "",
                                 const std::string& dns_address = "172.17.0.2:53",
                                 const std::string& manager = "172.17.0.1:18081") {
  return {{"connected", connected},
          {"manager", manager},
          {"subnets", connected ? nlohmann::json{"10.213.0.0/24"} : nlohmann::json::array()},
          {"dns",
           {{"address", connected ? dns_address : ""},
            {"search", connected ? nlohmann::json{"default.svc.cluster.local", "cluster.local"}
                                 : nlohmann::json::array()}}},
          {"error", error},
          {"reconnects", 0}};
}

// CliServices over the fakes with a daemon that is connected and answers every other control API
// call with `answer`.
inline CliServices ServicesWithConnectedDaemon(FakeDocker& docker, FakeImageBuilder& image_builder,
                                               FakePluginInstaller& plugin_installer, Clock& clock,
                                               FakeDaemonControl::CallScript answer) {
  return CliServices{
      .docker = docker,
      .daemon_control =
          [answer = std::move(answer)](const DaemonEndpoint&) -> std::unique_ptr<DaemonControl> {
        return std::make_unique<FakeDaemonControl>(
            [](int) { return Result<nlohmann::json>(StatusBody(true)); },
            [] { return Status(Ok{}); }, answer);
      },
      .image_builder = image_builder,
      .plugin_installer = plugin_installer,
      .clock = clock,
  };
}

}  // namespace tp::cli::testing
