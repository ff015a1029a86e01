// The flag reader shared by the command-line parsers (command_line.cc, engage_command_line.cc):
// each command's flags as FlagSpecs, read by ParseFlags into FlagValues. Internal to cli/'s
// parsing; command_line.h states the rules the user sees. Pure.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

// One flag a command accepts. A flag with an empty value_name is boolean.
struct FlagSpec {
  std::string_view name;        // "--context"
  std::string_view short_name;  // "-o", or empty
  std::string_view value_name;  // "NAME", or empty for a boolean flag
  bool repeatable = false;      // may be given several times (FlagValues::All)
};

inline constexpr FlagSpec kHelpFlag{"--help", "-h", ""};
inline constexpr FlagSpec kDockerFlag{"--docker", "", ""};
inline constexpr FlagSpec kContextFlag{"--context", "", "NAME"};
inline constexpr FlagSpec kManagerFlag{"--manager", "", "HOST:PORT"};
inline constexpr FlagSpec kOutputFlag{"--output", "-o", "FORMAT"};
inline constexpr FlagSpec kTimeoutFlag{"--timeout", "", "SECONDS"};
inline constexpr FlagSpec kDockerSubnetFlag{"--docker-subnet", "", "CIDR"};
inline constexpr FlagSpec kPortFlag{"--port", "", "LOCAL[:CONTAINER]", true};
inline constexpr FlagSpec kEnvFileFlag{"--env-file", "", "FILE"};
inline constexpr FlagSpec kMountFlag{"--mount", "", "PATH[:ro]|true[:ro]|false"};
inline constexpr FlagSpec kDockerMountFlag{"--docker-mount", "", "PATH"};
inline constexpr FlagSpec kNameFlag{"--name", "", "NAME"};
inline constexpr FlagSpec kDockerRunFlag{"--docker-run", "", ""};
inline constexpr FlagSpec kDockerBuildFlag{"--docker-build", "", "DIR"};
inline constexpr FlagSpec kDockerBuildOptFlag{"--docker-build-opt", "", "KEY=VALUE", true};
inline constexpr FlagSpec kDockerDebugFlag{"--docker-debug", "", "DIR"};
inline constexpr FlagSpec kUiPortFlag{"--port", "", "N"};
inline constexpr FlagSpec kNoOpenFlag{"--no-open", "", ""};
inline constexpr FlagSpec kPluginRegistryFlag{"--plugin-registry", "", "HOST[:PORT][/PATH]"};
inline constexpr FlagSpec kUpgradePluginsFlag{"--upgrade-plugins", "", ""};
inline constexpr FlagSpec kUpgradeFlag{"--upgrade", "", ""};
inline constexpr FlagSpec kFromFlag{"--from", "", "FILE"};

// What ParseFlags does with a word that is not one of the command's flags.
enum class UnknownWords {
  kReject,       // an unknown flag is an error; other words are positional arguments
  kPassThrough,  // it and every word after it go to `rest` unchanged (curl's arguments)
};

struct FlagValues {
  std::map<std::string_view, std::string> values;  // by FlagSpec::name; "" for boolean flags
  std::map<std::string_view, std::vector<std::string>> repeated;  // repeatable flags' values
  std::vector<std::string> rest;  // positional or passed-through words
  // Where in `rest` the words after a stand-alone `--` begin; nullopt without one.
  std::optional<size_t> after_dash_dash;

  bool Has(std::string_view name) const { return values.contains(name); }
  std::vector<std::string> All(std::string_view name) const {
    auto found = repeated.find(name);
    return found == repeated.end() ? std::vector<std::string>() : found->second;
  }
  std::optional<std::string> Get(std::string_view name) const {
    auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  }
};

// "; see telepresence COMMAND --help", the end of every error sentence.
std::string SeeHelp(std::string_view command);

bool LooksLikeFlag(std::string_view word);

// Reads a command's flags. `--help` wins over every error so that a user can always get help.
Result<FlagValues> ParseFlags(std::string_view command, std::span<const std::string> args,
                              std::span<const FlagSpec> specs, UnknownWords unknown_words);

// --context NAME, checked (IsValidContextName); nullopt when not given.
Result<std::optional<std::string>> ContextFlag(std::string_view command, const FlagValues& flags);

// An error when the command got positional arguments.
Status RejectPositionals(std::string_view command, const FlagValues& flags);

// The flags every command accepts besides its own.
std::vector<FlagSpec> WithCommonFlags(std::initializer_list<FlagSpec> own);

// `value` when it is a DNS label; else an error naming `what`.
Result<std::string> DnsLabelArgument(std::string_view command, std::string_view what,
                                     const std::string& value);

}  // namespace tp::cli
