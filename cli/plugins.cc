#include "cli/plugins.h"

#include "cli/process.h"

namespace tp::cli {
namespace {

constexpr std::string_view kSettingsFileHint =
    "plugin_registry in ~/.config/telepresence-docker/config.json";

std::string JoinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::string PluginNoun(const std::vector<std::string>& plugins) {
  return plugins.size() > 1 ? "plugins " : "plugin ";
}

std::string BareName(std::string_view installed_name) {
  return std::string(installed_name.substr(0, installed_name.find(':')));
}

CliError CannotInstall(const std::vector<std::string>& plugins) {
  return CliError{"the Docker " + PluginNoun(plugins) + JoinWords(plugins) +
                  (plugins.size() > 1 ? " are" : " is") +
                  " not installed and there is nowhere to get them from: give a registry that "
                  "has them (telepresence connect --docker --plugin-registry HOST[:PORT][/PATH], "
                  "or " +
                  std::string(kSettingsFileHint) +
                  "), install them from a release file (telepresence plugins install --from "
                  "telepresence-docker-VERSION.tar.gz), or, in the repository, run make plugins"};
}

std::string DescribeVersion(const docker::PluginInfo& info) {
  std::string text = info.version.empty() ? "of no known version" : "version " + info.version;
  if (!info.reference.empty()) text += " (from " + info.reference + ")";
  return text;
}

std::string DescribePrivileges(const std::vector<docker::PluginPrivilege>& privileges) {
  std::string text;
  for (const docker::PluginPrivilege& privilege : privileges) {
    text += (text.empty() ? "" : "; ") + privilege.name;
    for (const std::string& value : privilege.values) text += " " + value;
  }
  return text.empty() ? "nothing" : text;
}

PluginCondition ConditionOf(const std::optional<docker::PluginInfo>& info,
                            std::string_view version) {
  if (!info) return PluginCondition::kMissing;
  if (info->version != version) return PluginCondition::kOtherVersion;
  return info->enabled ? PluginCondition::kReady : PluginCondition::kDisabled;
}

Status InstallFromRegistry(DockerApi& docker, const std::string& registry, const std::string& name,
                           std::string_view version, std::ostream& err) {
  const std::string remote = PluginRemote(registry, BareName(name), version);
  err << "Installing the Docker plugin " << name << " from " << remote << " ..." << std::endl;
  Result<std::vector<docker::PluginPrivilege>> granted = docker.InstallPlugin(remote, name);
  if (!granted.ok()) return granted.error();
  err << "  granted: " << DescribePrivileges(granted.value()) << std::endl;
  return docker.EnablePlugin(name);
}

Status UpgradeFromRegistry(DockerApi& docker, const std::string& registry,
                           const PluginReport& report, std::string_view version,
                           std::ostream& err) {
  const std::string remote = PluginRemote(registry, BareName(report.name), version);
  err << "Upgrading the Docker plugin " << report.name << " from " << DescribeVersion(*report.info)
      << " to " << remote << " (its volumes and networks stay; containers using them keep "
      << "their network, and get their volumes back when they restart) ..." << std::endl;
  if (report.info->enabled) {
    if (Status status = docker.DisablePlugin(report.name, /*force=*/true); !status.ok()) {
      return status;
    }
  }
  Result<std::vector<docker::PluginPrivilege>> granted = docker.UpgradePlugin(report.name, remote);
  if (!granted.ok()) return granted.error();
  err << "  granted: " << DescribePrivileges(granted.value()) << std::endl;
  return docker.EnablePlugin(report.name);
}

CliError OtherVersion(const PluginReport& report, const PluginPolicy& policy) {
  const std::string registry =
      policy.registry ? *policy.registry : std::string("HOST[:PORT][/PATH]");
  std::string message = "the Docker plugin " + report.name + " is " +
                        DescribeVersion(*report.info) + ", and this telepresence is " +
                        policy.version + ": ";
  if (policy.upgrade) {
    return CliError{message + "upgrading it needs a registry that has version " + policy.version +
                    " (--plugin-registry HOST[:PORT][/PATH], or " + std::string(kSettingsFileHint) +
                    ")"};
  }
  return CliError{message + "upgrade it, keeping its volumes and networks, with telepresence " +
                  "connect --docker --upgrade-plugins --plugin-registry " + registry +
                  " (or, in the repository, make plugins)"};
}

// Installs the missing ones (registry, else the build tree's script) and checks they came.
Status InstallMissing(DockerApi& docker, PluginInstaller& build_tree_installer,
                      const PluginPolicy& policy, const std::vector<std::string>& missing,
                      std::ostream& err) {
  if (missing.empty()) return Ok{};
  if (policy.registry) {
    for (const std::string& name : missing) {
      if (Status status = InstallFromRegistry(docker, *policy.registry, name, policy.version, err);
          !status.ok()) {
        return status;
      }
    }
    return Ok{};
  }
  err << "Installing the missing Docker " << PluginNoun(missing) << JoinWords(missing) << " ..."
      << std::endl;
  if (Status installed = build_tree_installer.Install(missing); !installed.ok()) return installed;
  // The script installs every plugin: check them all, and enable what it left disabled.
  for (const std::string& name : missing) {
    Result<std::optional<docker::PluginInfo>> info = docker.InspectPlugin(name);
    if (!info.ok()) return info.error();
    if (!info.value()) {
      return CliError{"the Docker plugin " + name +
                      " is still not installed after the installation; run make plugins"};
    }
    if (!info.value()->enabled) {
      if (Status status = docker.EnablePlugin(name); !status.ok()) return status;
    }
  }
  return Ok{};
}

}  // namespace

std::string InstalledPluginName(std::string_view bare_name) {
  return std::string(bare_name) + ":latest";
}

std::string PluginRemote(std::string_view registry, std::string_view bare_name,
                         std::string_view version) {
  return std::string(registry) + "/" + std::string(bare_name) + ":" + std::string(version);
}

std::string_view PluginConditionName(PluginCondition condition) {
  switch (condition) {
    case PluginCondition::kReady:
      return "ok";
    case PluginCondition::kMissing:
      return "missing";
    case PluginCondition::kDisabled:
      return "disabled";
    case PluginCondition::kOtherVersion:
      return "other version";
  }
  return "unknown";
}

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

Result<std::vector<PluginReport>> InspectManagedPlugins(DockerApi& docker,
                                                        std::string_view version) {
  std::vector<PluginReport> reports;
  for (std::string_view bare_name : kManagedPluginNames) {
    const std::string name = InstalledPluginName(bare_name);
    Result<std::optional<docker::PluginInfo>> info = docker.InspectPlugin(name);
    if (!info.ok()) return info.error();
    reports.push_back({.name = name,
                       .condition = ConditionOf(info.value(), version),
                       .info = std::move(info).value()});
  }
  return reports;
}

Status EnsurePlugins(DockerApi& docker, PluginInstaller& build_tree_installer,
                     const PluginPolicy& policy, std::ostream& err) {
  Result<std::vector<PluginReport>> reports = InspectManagedPlugins(docker, policy.version);
  if (!reports.ok()) return reports.error();
  std::vector<std::string> missing;
  for (const PluginReport& report : reports.value()) {
    if (report.condition == PluginCondition::kMissing) missing.push_back(report.name);
    if (report.condition == PluginCondition::kOtherVersion &&
        !(policy.upgrade && policy.registry)) {
      return OtherVersion(report, policy);
    }
  }
  if (Status status = InstallMissing(docker, build_tree_installer, policy, missing, err);
      !status.ok()) {
    return status;
  }
  for (const PluginReport& report : reports.value()) {
    Status status = Ok{};
    if (report.condition == PluginCondition::kOtherVersion) {
      status = UpgradeFromRegistry(docker, *policy.registry, report, policy.version, err);
    } else if (report.condition == PluginCondition::kDisabled) {
      err << "Enabling the Docker plugin " << report.name << std::endl;
      status = docker.EnablePlugin(report.name);
    }
    if (!status.ok()) return status;
  }
  return Ok{};
}

}  // namespace tp::cli
