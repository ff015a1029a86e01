// DockerApi over the Docker Engine API (docker_engine/engine_client.h): every query and every
// object the CLI creates goes over the engine's socket, without a process. Only what must honour
// a user's own `docker` arguments exactly runs the `docker` executable found in PATH (argv from
// docker_command.h / engagement_plan.h, never a shell): RunAttached (telepresence curl,
// docker-run), StartForeground (the --docker-run handler) and BuildImage (--docker-build).
// Thread safety: calls may run concurrently (as EngineClient's); a ContainerWatch may be
// asked from any thread.
#pragma once

#include <chrono>
#include <memory>

#include "cli/docker_client.h"
#include "docker_engine/engine_client.h"

namespace tp::cli {

class DockerEngineApi : public DockerApi {
 public:
  // `engine`'s deadline bounds each call (creating a container, or a volume or network through
  // a plugin, may take a while: give it tens of seconds).
  explicit DockerEngineApi(docker::EngineClient engine) : engine_(std::move(engine)) {}
  // For the engine DOCKER_HOST names (the process's environment; unset: /var/run/docker.sock).
  // With a DOCKER_HOST that is not unix://PATH every call fails, saying why.
  static std::unique_ptr<DockerEngineApi> FromEnvironment();

  Result<std::optional<std::string>> ContainerState(const std::string& container) override;
  Result<bool> ImageExists(const std::string& image) override;
  Result<std::vector<std::string>> ListImageTags() override;
  Result<std::string> RunDetached(const docker::ContainerSpec& spec) override;
  Result<std::unique_ptr<ContainerWatch>> WatchContainer(const std::string& id) override;
  Result<std::unique_ptr<AddressWatch>> WatchForAddress(const std::string& network,
                                                        const std::string& container) override;
  Result<DaemonEndpoint> ControlEndpoint(const std::string& container) override;
  Result<std::vector<std::string>> ListLabelled(DockerResource kind,
                                                const std::string& label) override;
  Status Remove(DockerResource kind, const std::vector<std::string>& names) override;
  Result<ExitCode> RunAttached(const Argv& argv) override;
  Result<std::optional<docker::PluginInfo>> InspectPlugin(const std::string& plugin) override;
  Status EnablePlugin(const std::string& plugin) override;
  Status DisablePlugin(const std::string& plugin, bool force) override;
  Result<std::vector<docker::PluginPrivilege>> InstallPlugin(const std::string& remote,
                                                             const std::string& name) override;
  Result<std::vector<docker::PluginPrivilege>> UpgradePlugin(const std::string& name,
                                                             const std::string& remote) override;
  Status CreatePlugin(const std::string& name, const std::string& tar) override;
  Result<std::vector<DockerNetwork>> ListNetworks() override;
  Result<std::optional<DockerNetwork>> InspectNetwork(const std::string& network) override;
  Status CreateNetwork(const docker::NetworkSpec& spec) override;
  Status ConnectToNetwork(const std::string& network, const std::string& container,
                          const std::string& ip, const std::string& ip6) override;
  Status DisconnectFromNetwork(const std::string& network, const std::string& container) override;
  Status CreateVolume(const docker::VolumeSpec& spec) override;
  Result<std::string> BuildImage(const Argv& argv) override;
  Result<std::string> RunDetachedArgv(const Argv& argv) override;
  Status StopContainer(const std::string& container) override;
  Result<std::unique_ptr<ForegroundRun>> StartForeground(const Argv& argv, const StopSource& stop,
                                                         ChildStreams streams) override;
  Result<std::unique_ptr<StreamFollow>> FollowLogs(
      const std::string& container, std::function<void(std::string_view line)> on_line) override;
  Result<std::unique_ptr<StreamFollow>> FollowEvents(
      const docker::Filters& filters,
      std::function<void(const docker::EngineEvent& event)> on_event) override;

 private:
  Result<std::string> RunForId(const Argv& argv, std::chrono::milliseconds timeout);

  const docker::EngineClient engine_;
};

}  // namespace tp::cli
