// The CLI's own settings, one JSON file next to the contexts:
// ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/config.json
//   {"plugin_registry": "registry.example.com:5000/telepresence"}
// plugin_registry: where `connect --docker` and `plugins install` get the managed plugins
// (REGISTRY/telemount:VERSION, REGISTRY/teleroute:VERSION). A missing file is no settings; a file
// that is not JSON, has an unknown key or an invalid value is an error naming it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "cli/context.h"
#include "cli/result.h"

namespace tp::cli {

struct CliConfig {
  std::optional<std::string> plugin_registry{};  // valid per IsValidPluginRegistry
};

// The file's path (next to the contexts folder).
Result<std::filesystem::path> CliConfigFile(const EnvironmentLookup& environment);
Result<CliConfig> LoadCliConfig(const EnvironmentLookup& environment);
Result<CliConfig> ParseCliConfig(std::string_view json_text, const std::filesystem::path& source);

// host[:port][/path] with a host of letters, digits, dots and dashes, a numeric port and a path
// of lowercase segments ([a-z0-9._-]), at most 255 characters: what a registry reference
// starts with. Never a URL (no scheme), never whitespace or shell text.
bool IsValidPluginRegistry(std::string_view registry);

}  // namespace tp::cli
