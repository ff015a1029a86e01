// The managed Docker plugins `connect --docker` needs: teleroute:latest (the network driver of
// the context's network) and telemount:latest (remote volumes). A missing plugin is installed by
// the repository's scripts/build-plugins.sh BUILD_DIR (which installs both, enabled) when this
// telepresence runs from a build tree; a disabled one is enabled. Nothing comes from a registry.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/docker_client.h"
#include "cli/images.h"
#include "cli/result.h"

namespace tp::cli {

inline constexpr std::string_view kTeleroutePlugin = "teleroute:latest";
inline constexpr std::string_view kTelemountPlugin = "telemount:latest";

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

// Makes sure every plugin of `plugins` is installed and enabled: installs the missing ones (one
// call for all), enables the disabled ones, saying on `err` what it does.
Status EnsurePlugins(DockerApi& docker, PluginInstaller& installer,
                     const std::vector<std::string>& plugins, std::ostream& err);

}  // namespace tp::cli
