#include "cli/context.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <system_error>

#include "cli/validation.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr std::string_view kContextsSubdirectory = "telepresence-docker/contexts";

std::string Quoted(const fs::path& path) { return "'" + path.string() + "'"; }

CliError UnknownContext(std::string_view name, const fs::path& directory) {
  std::vector<std::string> available = ListContextNames(directory);
  std::string message = "unknown context '" + std::string(name) + "': no file " +
                        Quoted(directory / (std::string(name) + ".json"));
  if (available.empty()) {
    return CliError{message + ", and no context exists in " + Quoted(directory) +
                    "; run make demo-cluster to create the default one, or write one there"};
  }
  std::string names;
  for (const std::string& available_name : available) {
    names += (names.empty() ? "" : ", ") + available_name;
  }
  return CliError{message + "; available contexts: " + names + "; choose one with --context NAME"};
}

CliError FieldError(const fs::path& source_file, std::string_view field, std::string_view rule) {
  return CliError{"context file " + Quoted(source_file) + ": field '" + std::string(field) + "' " +
                  std::string(rule) + "; fix or recreate the file"};
}

Result<std::string> RequiredString(const json& object, std::string_view field,
                                   const fs::path& source_file) {
  auto found = object.find(field);
  if (found == object.end() || !found->is_string() || found->get<std::string>().empty()) {
    return FieldError(source_file, field, "is missing or not a non-empty string");
  }
  return found->get<std::string>();
}

Result<std::vector<std::string>> OptionalStringList(const json& object, std::string_view field,
                                                    const fs::path& source_file) {
  auto found = object.find(field);
  if (found == object.end()) return std::vector<std::string>{};
  bool all_strings = found->is_array() && std::all_of(found->begin(), found->end(),
                                                      [](const json& v) { return v.is_string(); });
  if (!all_strings) return FieldError(source_file, field, "is not a list of strings");
  return found->get<std::vector<std::string>>();
}

Result<std::string> ReadWholeFile(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return CliError{"cannot read context file " + Quoted(path) + "; check its permissions"};
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

}  // namespace

std::optional<std::string> ProcessEnvironment(const std::string& name) {
  const char* value = std::getenv(name.c_str());
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

Result<fs::path> ContextsDirectory(const EnvironmentLookup& environment) {
  std::optional<std::string> config_home = environment("XDG_CONFIG_HOME");
  if (config_home && fs::path(*config_home).is_absolute()) {
    return fs::path(*config_home) / kContextsSubdirectory;
  }
  std::optional<std::string> home = environment("HOME");
  if (home && !home->empty()) return fs::path(*home) / ".config" / kContextsSubdirectory;
  return CliError{
      "cannot find the contexts: neither XDG_CONFIG_HOME (absolute) nor HOME is set; set one of "
      "them"};
}

std::vector<std::string> ListContextNames(const fs::path& directory) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(directory, error)) {
    const fs::path& path = entry.path();
    std::string stem = path.stem().string();
    if (path.extension() == ".json" && IsValidContextName(stem)) names.push_back(stem);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<Context> LoadContext(std::string_view name, const fs::path& directory) {
  if (!IsValidContextName(name)) {
    return CliError{"invalid context name '" + std::string(name) + "' (" +
                    std::string(ContextNameRule()) + ")"};
  }
  fs::path file = directory / (std::string(name) + ".json");
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return UnknownContext(name, directory);
  Result<std::string> text = ReadWholeFile(file);
  if (!text.ok()) return text.error();
  return ParseContext(name, text.value(), file);
}

Result<Context> ParseContext(std::string_view name, std::string_view json_text,
                             const fs::path& source_file) {
  json object;
  std::string problem;
  try {
    object = json::parse(json_text);
    if (!object.is_object()) problem = "is JSON but not an object";
  } catch (const json::parse_error& error) {
    problem = "is not valid JSON (" + std::string(error.what()) + ")";
  }
  if (!problem.empty()) {
    return CliError{"context file " + Quoted(source_file) + " " + problem +
                    "; fix or recreate it (make demo-cluster writes the default one)"};
  }
  Context context{.name = std::string(name), .source_file = source_file};
  if (object.contains("name")) {
    Result<std::string> inner_name = RequiredString(object, "name", source_file);
    if (!inner_name.ok()) return inner_name.error();
    if (inner_name.value() != name) {
      return FieldError(
          source_file, "name",
          "says '" + inner_name.value() + "' but the file is for '" + std::string(name) + "'");
    }
  }
  Result<std::string> manager = RequiredString(object, "manager", source_file);
  if (!manager.ok()) return manager.error();
  if (!IsHostPort(manager.value())) {
    return FieldError(source_file, "manager", "is not HOST:PORT");
  }
  context.manager = manager.value();
  Result<std::string> secret_file = RequiredString(object, "secret_file", source_file);
  if (!secret_file.ok()) return secret_file.error();
  context.secret_file = secret_file.value();
  if (!context.secret_file.is_absolute()) {
    return FieldError(source_file, "secret_file", "is not an absolute path");
  }
  Result<std::string> network = RequiredString(object, "cluster_network", source_file);
  if (!network.ok()) return network.error();
  context.cluster_network = network.value();
  Result<std::vector<std::string>> subnets =
      OptionalStringList(object, "cluster_subnets", source_file);
  if (!subnets.ok()) return subnets.error();
  context.cluster_subnets = subnets.value();
  return context;
}

Result<Context> WithManagerOverride(Context context,
                                    const std::optional<std::string>& manager_override) {
  if (!manager_override) return context;
  if (!IsHostPort(*manager_override)) {
    return CliError{"invalid manager address '" + *manager_override +
                    "': use HOST:PORT, e.g. 127.0.0.1:8081"};
  }
  context.manager = *manager_override;
  return context;
}

}  // namespace tp::cli
