#include "cli/cli_config.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "net/host_port.h"

namespace tp::cli {
namespace fs = std::filesystem;

namespace {

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-';
}

bool IsPathCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

bool IsValidHost(std::string_view host) {
  if (host.empty() || host.front() == '-' || host.front() == '.') return false;
  for (char c : host) {
    if (!IsHostCharacter(c)) return false;
  }
  return true;
}

bool IsValidPath(std::string_view path) {
  while (!path.empty()) {
    const size_t slash = path.find('/');
    const std::string_view segment = path.substr(0, slash);
    if (segment.empty() || segment.front() == '.' || segment.front() == '-') return false;
    for (char c : segment) {
      if (!IsPathCharacter(c)) return false;
    }
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
    if (path.empty()) return false;  // a trailing slash
  }
  return true;
}

}  // namespace

bool IsValidPluginRegistry(std::string_view registry) {
  if (registry.empty() || registry.size() > 255) return false;
  const size_t slash = registry.find('/');
  const std::string_view authority = registry.substr(0, slash);
  const std::string_view path =
      slash == std::string_view::npos ? std::string_view() : registry.substr(slash + 1);
  if (slash != std::string_view::npos && path.empty()) return false;
  const size_t colon = authority.find(':');
  if (colon != std::string_view::npos && !ParseServicePort(authority.substr(colon + 1))) {
    return false;
  }
  return IsValidHost(authority.substr(0, colon)) && IsValidPath(path);
}

Result<fs::path> CliConfigFile(const EnvironmentLookup& environment) {
  Result<fs::path> contexts = ContextsDirectory(environment);
  if (!contexts.ok()) return contexts.error();
  return contexts.value().parent_path() / "config.json";
}

Result<CliConfig> ParseCliConfig(std::string_view json_text, const fs::path& source) {
  const nlohmann::json document = nlohmann::json::parse(json_text, nullptr, false);
  const std::string where = "the settings file " + source.string();
  if (!document.is_object()) return CliError{where + " is not a JSON object"};
  CliConfig config;
  for (const auto& [key, value] : document.items()) {
    if (key != "plugin_registry") {
      return CliError{where + " has an unknown key '" + key + "' (known: plugin_registry)"};
    }
    if (!value.is_string() || !IsValidPluginRegistry(value.get<std::string>())) {
      return CliError{where +
                      ": plugin_registry must be host[:port][/path], e.g. "
                      "\"registry.example.com:5000/telepresence\""};
    }
    config.plugin_registry = value.get<std::string>();
  }
  return config;
}

Result<CliConfig> LoadCliConfig(const EnvironmentLookup& environment) {
  Result<fs::path> file = CliConfigFile(environment);
  if (!file.ok()) return file.error();
  std::ifstream in(file.value());
  if (!in) {
    std::error_code error;
    if (!fs::exists(file.value(), error)) return CliConfig{};
    return CliError{"cannot read the settings file " + file.value().string()};
  }
  std::ostringstream text;
  text << in.rdbuf();
  return ParseCliConfig(text.str(), file.value());
}

}  // namespace tp::cli
