// Contexts: named descriptions of a cluster to connect to, one JSON file per context in
// ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/contexts/<name>.json (demo/cluster/up.sh
// writes "default"):
//   {"name":"default","manager":"172.17.0.1:PORT","secret_file":"/abs/path",
//    "cluster_network":"tp-demo","cluster_subnets":["10.213.0.0/24"]}
// "manager" is where the daemon container (on Docker's default bridge network) reaches the
// traffic-manager: an address published on the bridge's gateway, not the host's loopback
// (connect refuses that).
// Loading reads the file system and nothing else; the environment comes in as a lookup function
// so that callers (and tests) decide where it comes from. Errors are sentences that name the file
// or list the contexts that exist.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

struct Context {
  std::string name{};                          // valid per IsValidContextName
  std::string manager{};                       // HOST:PORT of the traffic-manager, from containers
  std::filesystem::path secret_file{};         // absolute path of the shared secret
  std::string cluster_network{};               // the Docker network standing for the cluster
  std::vector<std::string> cluster_subnets{};  // CIDRs, as the file lists them (may be empty)
  std::filesystem::path source_file{};         // the file it was read from
};

// Returns the value of an environment variable, or nullopt when it is not set.
using EnvironmentLookup = std::function<std::optional<std::string>(const std::string& name)>;

// The process environment (getenv). Reads only; safe as long as nothing calls setenv meanwhile.
std::optional<std::string> ProcessEnvironment(const std::string& name);

// ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/contexts. XDG_CONFIG_HOME counts only
// when it is an absolute path (as the XDG spec says). An error when neither variable helps.
Result<std::filesystem::path> ContextsDirectory(const EnvironmentLookup& environment);

// The names of the valid context files in `directory`, sorted; empty when there is none or the
// directory does not exist.
std::vector<std::string> ListContextNames(const std::filesystem::path& directory);

// Reads <directory>/<name>.json. Errors: an invalid name, an unknown context (the message lists
// the contexts that exist), a file that is not JSON or lacks a field (the message names the file).
Result<Context> LoadContext(std::string_view name, const std::filesystem::path& directory);

// Parses the text of a context file; `source_file` is only for messages and Context::source_file.
Result<Context> ParseContext(std::string_view name, std::string_view json_text,
                             const std::filesystem::path& source_file);

// The context with its manager address replaced, when `manager_override` is set. Error: an
// override that is not HOST:PORT.
Result<Context> WithManagerOverride(Context context,
                                    const std::optional<std::string>& manager_override);

}  // namespace tp::cli
