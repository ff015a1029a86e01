#include "cli/plugins.h"

#include "cli/process.h"

namespace tp::cli {
namespace {

std::string JoinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::string PluginNoun(const std::vector<std::string>& plugins) {
  return plugins.size() > 1 ? "plugins " : "plugin ";
}

CliError CannotInstall(const std::vector<std::string>& plugins) {
  return CliError{"the Docker " + PluginNoun(plugins) + JoinWords(plugins) +
                  (plugins.size() > 1 ? " are" : " is") +
                  " not installed and this telepresence is not in a build tree that has "
                  "scripts/build-plugins.sh; install them in the repository with make plugins "
                  "(or scripts/build-plugins.sh BUILD_DIR)"};
}

}  // namespace

Status ScriptPluginInstaller::Install(const std::vector<std::string>& plugins) {
  if (!script_) return CannotInstall(plugins);
  Argv argv{script_->script.string(), script_->build_dir.string()};
  Result<ExitCode> exit_code = RunAttached(argv, ChildStreams::kStdoutToStderr);
  if (!exit_code.ok()) return exit_code.error();
  if (exit_code.value() != 0) {
    return CliError{"installing " + JoinWords(plugins) + " failed (" + FormatArgvForDisplay(argv) +
                    " exited with " + std::to_string(exit_code.value()) +
                    "); its output above says why"};
  }
  return Ok{};
}

Status EnsurePlugins(DockerApi& docker, PluginInstaller& installer,
                     const std::vector<std::string>& plugins, std::ostream& err) {
  std::vector<std::string> missing;
  std::vector<std::string> disabled;
  for (const std::string& plugin : plugins) {
    Result<std::optional<bool>> enabled = docker.PluginEnabled(plugin);
    if (!enabled.ok()) return enabled.error();
    if (!enabled.value()) missing.push_back(plugin);
    if (enabled.value() == false) disabled.push_back(plugin);
  }
  if (!missing.empty()) {
    err << "Installing the missing Docker " << PluginNoun(missing) << JoinWords(missing) << " ..."
        << std::endl;
    if (Status installed = installer.Install(missing); !installed.ok()) return installed;
  }
  for (const std::string& plugin : disabled) {
    err << "Enabling the Docker plugin " << plugin << std::endl;
    if (Status status = docker.EnablePlugin(plugin); !status.ok()) return status;
  }
  // The script installs every plugin: check them all, and enable what it left disabled.
  for (const std::string& plugin : missing) {
    Result<std::optional<bool>> enabled = docker.PluginEnabled(plugin);
    if (!enabled.ok()) return enabled.error();
    if (!enabled.value()) {
      return CliError{"the Docker plugin " + plugin +
                      " is still not installed after the installation; run make plugins"};
    }
    if (!*enabled.value()) {
      if (Status status = docker.EnablePlugin(plugin); !status.ok()) return status;
    }
  }
  return Ok{};
}

}  // namespace tp::cli
