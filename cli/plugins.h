// The managed Docker plugins `connect --docker` needs: teleroute:latest (the network driver of the
// context's network) and telemount:latest (remote volumes), both of this telepresence's version
// (version.h; a plugin carries its own in its config, docker::PluginInfo::version).
//
// Where a missing plugin comes from, first match:
//   1. a registry (--plugin-registry, or plugin_registry in cli_config.h's file): REGISTRY/NAME:
//      VERSION, installed as NAME:latest (docker plugin install --alias NAME), granting the
//      privileges it asks for (listed on the error stream);
//   2. this build tree's scripts/build-plugins.sh (developers; ScriptPluginInstaller);
//   3. nowhere: the error says what to run.
// A plugin of another version is upgraded in place, keeping its volumes, networks and settings,
// only when asked (--upgrade-plugins) and from a registry; otherwise the error gives the command.
// A disabled plugin is enabled.
#pragma once

#include <array>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "cli/docker_client.h"
#include "cli/images.h"
#include "cli/result.h"

namespace tp::cli {

inline constexpr std::string_view kTeleroutePlugin = "teleroute:latest";
inline constexpr std::string_view kTelemountPlugin = "telemount:latest";
// Their names in a registry and in a release file: REGISTRY/teleroute:VERSION, plugins/NAME.tar.
inline constexpr std::array<std::string_view, 2> kManagedPluginNames{"teleroute", "telemount"};

// "teleroute" -> "teleroute:latest".
std::string InstalledPluginName(std::string_view bare_name);
// "REGISTRY/teleroute:VERSION".
std::string PluginRemote(std::string_view registry, std::string_view bare_name,
                         std::string_view version);

class PluginInstaller {
 public:
  virtual ~PluginInstaller() = default;
  // Installs and enables the plugins (e.g. {"teleroute:latest"}). Error: they cannot be
  // installed from here (the sentence says how to install them).
  virtual Status Install(const std::vector<std::string>& plugins) = 0;
};

// Runs build-plugins.sh BUILD_DIR with its output on stderr.
class ScriptPluginInstaller : public PluginInstaller {
 public:
  explicit ScriptPluginInstaller(std::optional<BuildScript> script) : script_(std::move(script)) {}
  Status Install(const std::vector<std::string>& plugins) override;

 private:
  const std::optional<BuildScript> script_;
};

struct PluginPolicy {
  std::string version;                  // the version they must have
  std::optional<std::string> registry;  // where missing (and, with upgrade, other) ones come from
  bool upgrade = false;                 // upgrade plugins of another version
};

enum class PluginCondition { kReady, kMissing, kDisabled, kOtherVersion };
std::string_view PluginConditionName(PluginCondition condition);  // "ok", "missing", ...

struct PluginReport {
  std::string name;  // "teleroute:latest"
  PluginCondition condition = PluginCondition::kMissing;
  std::optional<docker::PluginInfo> info{};  // when installed
};

// Both managed plugins, as they are on the engine.
Result<std::vector<PluginReport>> InspectManagedPlugins(DockerApi& docker,
                                                        std::string_view version);

// Makes both managed plugins installed, enabled and of policy.version (see the top of the file),
// saying on `err` what it does.
Status EnsurePlugins(DockerApi& docker, PluginInstaller& build_tree_installer,
                     const PluginPolicy& policy, std::ostream& err);

}  // namespace tp::cli
