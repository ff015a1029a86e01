// The `telepresence` command. All logic lives in app.cc; main wires the process's arguments,
// streams and environment, and the real Docker, daemon control API, image builder, plugin
// installer and clock.
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cli/app.h"
#include "cli/docker_engine_api.h"
#include "webui/assets.h"

namespace {

// scripts/NAME of the repository this telepresence was built in (images.h says how it is found).
std::optional<tp::cli::BuildScript> BuildScriptNextToThisExecutable(std::string_view name) {
  std::error_code error;
  std::filesystem::path executable = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return std::nullopt;
  return tp::cli::FindBuildScript(executable, name, [](const std::filesystem::path& path) {
    std::error_code ignored;
    return std::filesystem::is_regular_file(path, ignored);
  });
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  tp::cli::CliIo io{std::cout, std::cerr, tp::cli::ProcessEnvironment};
  std::unique_ptr<tp::cli::DockerEngineApi> docker = tp::cli::DockerEngineApi::FromEnvironment();
  tp::cli::ScriptImageBuilder image_builder(BuildScriptNextToThisExecutable("build-images.sh"));
  tp::cli::ScriptPluginInstaller plugin_installer(
      BuildScriptNextToThisExecutable("build-plugins.sh"));
  tp::cli::SystemClock clock;
  const char* run_dir = std::getenv("TELEPRESENCE_DOCKER_RUN_DIR");
  tp::cli::HostDaemonProcesses host_daemons(
      run_dir != nullptr && *run_dir != '\0' ? run_dir : "/run/telepresence-docker");
  tp::cli::CliServices services{
      .docker = *docker,
      .daemon_control =
          [](const tp::cli::DaemonEndpoint& endpoint) -> std::unique_ptr<tp::cli::DaemonControl> {
        return std::make_unique<tp::cli::HttpDaemonControl>(endpoint);
      },
      .image_builder = image_builder,
      .plugin_installer = plugin_installer,
      .clock = clock,
      .engagement_guard = tp::cli::StartForkedEngagementGuard,
      .ui_assets = tp::webui::EmbeddedAssets(),
      .host_daemons = &host_daemons,
      .kernel_has_ipv6 = std::filesystem::exists("/proc/sys/net/ipv6/conf/all/disable_ipv6"),
  };
  return tp::cli::RunTelepresence(args, io, services);
}
