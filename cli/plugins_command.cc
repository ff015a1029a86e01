// `telepresence plugins status|install` and `telepresence version`: see their --help
// (command_help.cc).
#include <iomanip>
#include <sstream>

#include "cli/cli_config.h"
#include "cli/commands.h"
#include "cli/plugin_archive.h"
#include "cli/plugins.h"
#include "cli/version.h"

namespace tp::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kCommand = "plugins";

json ReportJson(const PluginReport& report) {
  json entry{{"name", report.name},
             {"state", PluginConditionName(report.condition)},
             {"installed", report.info.has_value()}};
  if (report.info) {
    entry["enabled"] = report.info->enabled;
    entry["version"] = report.info->version;
    entry["reference"] = report.info->reference;
  }
  return entry;
}

std::string ReportTable(const std::vector<PluginReport>& reports) {
  std::ostringstream table;
  table << std::left << std::setw(18) << "PLUGIN" << std::setw(10) << "VERSION" << std::setw(9)
        << "ENABLED" << std::setw(15) << "STATE"
        << "FROM\n";
  for (const PluginReport& report : reports) {
    const bool installed = report.info.has_value();
    std::string version = "-";
    if (installed) version = report.info->version.empty() ? "unknown" : report.info->version;
    table << std::setw(18) << report.name << std::setw(10) << version << std::setw(9)
          << (installed ? (report.info->enabled ? "yes" : "no") : "-") << std::setw(15)
          << PluginConditionName(report.condition)
          << (installed ? report.info->reference : std::string("-")) << "\n";
  }
  return table.str();
}

int PrintStatus(const PluginsCommand& command, const CliIo& io, DockerApi& docker) {
  Result<std::vector<PluginReport>> reports = InspectManagedPlugins(docker, TelepresenceVersion());
  if (!reports.ok()) return Fail(io, kCommand, reports.error().message);
  if (command.output == OutputFormat::kJson) {
    json plugins = json::array();
    for (const PluginReport& report : reports.value()) plugins.push_back(ReportJson(report));
    io.out << json{{"version", TelepresenceVersion()}, {"plugins", plugins}}.dump() << "\n";
    return kExitOk;
  }
  io.out << "telepresence " << TelepresenceVersion() << " needs these Docker plugins:\n"
         << ReportTable(reports.value());
  return kExitOk;
}

// Creates the missing plugins from a release file; refuses other versions (no upgrade from a
// file: Docker upgrades only from a registry).
Status InstallFromArchive(const std::string& file, const CliIo& io, DockerApi& docker) {
  Result<std::vector<PluginReport>> reports = InspectManagedPlugins(docker, TelepresenceVersion());
  if (!reports.ok()) return reports.error();
  std::optional<PluginArchive> archive;
  for (const PluginReport& report : reports.value()) {
    if (report.condition == PluginCondition::kOtherVersion) {
      return CliError{"the Docker plugin " + report.name + " is version " +
                      (report.info->version.empty() ? "unknown" : report.info->version) +
                      ": a release file cannot upgrade it (Docker upgrades a plugin in place "
                      "only from a registry: telepresence plugins install --upgrade "
                      "--plugin-registry HOST[:PORT][/PATH]; or remove it first with docker "
                      "plugin rm, which loses its volumes and networks)"};
    }
    if (report.condition == PluginCondition::kDisabled) {
      io.err << "Enabling the Docker plugin " << report.name << std::endl;
      if (Status status = docker.EnablePlugin(report.name); !status.ok()) return status;
    }
    if (report.condition != PluginCondition::kMissing) continue;
    if (!archive) {
      Result<PluginArchive> read = ReadPluginArchive(file, io.environment);
      if (!read.ok()) return read.error();
      if (read.value().version != TelepresenceVersion()) {
        return CliError{file + " holds version " + read.value().version +
                        ", and this telepresence is " + std::string(TelepresenceVersion()) +
                        ": use the release file of the same version"};
      }
      archive = std::move(read).value();
    }
    io.err << "Creating the Docker plugin " << report.name << " from " << file << std::endl;
    const std::string bare_name = report.name.substr(0, report.name.find(':'));
    if (Status status = docker.CreatePlugin(report.name, archive->plugins.at(bare_name));
        !status.ok()) {
      return status;
    }
    if (Status status = docker.EnablePlugin(report.name); !status.ok()) return status;
  }
  return Ok{};
}

int Install(const PluginsCommand& command, const CliIo& io, CliServices& services) {
  Status installed = Ok{};
  if (command.from_file) {
    installed = InstallFromArchive(*command.from_file, io, services.docker);
  } else {
    Result<PluginPolicy> policy =
        PluginPolicyFor(command.plugin_registry, command.upgrade, io.environment);
    if (!policy.ok()) return Fail(io, kCommand, policy.error().message);
    installed = EnsurePlugins(services.docker, services.plugin_installer, policy.value(), io.err);
  }
  if (!installed.ok()) return Fail(io, kCommand, installed.error().message);
  return PrintStatus(PluginsCommand{}, io, services.docker);
}

}  // namespace

Result<PluginPolicy> PluginPolicyFor(const std::optional<std::string>& registry_flag, bool upgrade,
                                     const EnvironmentLookup& environment) {
  PluginPolicy policy{
      .version = std::string(TelepresenceVersion()), .registry = registry_flag, .upgrade = upgrade};
  if (policy.registry) return policy;
  Result<CliConfig> config = LoadCliConfig(environment);
  if (!config.ok()) return config.error();
  policy.registry = config.value().plugin_registry;
  return policy;
}

int RunPlugins(const PluginsCommand& command, const CliIo& io, CliServices& services) {
  if (command.action == PluginsCommand::Action::kStatus) {
    return PrintStatus(command, io, services.docker);
  }
  return Install(command, io, services);
}

int RunVersion(const CliIo& io) {
  io.out << "telepresence " << TelepresenceVersion() << "\n";
  return kExitOk;
}

}  // namespace tp::cli
