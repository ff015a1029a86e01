// Parsing of `telepresence [GLOBAL FLAGS] COMMAND [FLAGS] [-- ARGS]` into a typed command. Pure:
// no I/O, no environment, no global state. Errors come back as values whose sentence names the
// problem and the help to read ("unknown flag --x for connect; see telepresence connect --help").
//
// Rules:
// - Flags take their value as `--flag VALUE` or `--flag=VALUE`; a flag given twice is an error.
// - `--help`/`-h` anywhere among a command's own flags asks for that command's help, even when
//   other flags are wrong. `telepresence --help` and `telepresence help [COMMAND]` too.
// - `--docker` is a global flag: accepted before the command and among any command's flags.
// - `curl`: telepresence's own flags come first; from the first word that is not one of them
//   (or after a stand-alone `--`) everything goes to curl unchanged, so
//   `telepresence curl -- --help` shows curl's help.
//
// - `docker-run`: like curl, its own flags first, then everything goes to `docker run`.
// - `replace|intercept|ingest|wiretap`: WORKLOAD and telepresence's flags, then a stand-alone
//   `--`, then the `docker run` words (docker_run_args.h splits them into flags, image, args).
//   --port and --docker-build-opt may be given several times.
//
// A new command: add a struct for its arguments, add it to the Command variant, write its parse
// function (with command_flags.h's ParseFlags), add one row to the command table in
// command_line.cc (name, summary, parser) and its help text to command_help.cc. The engagement
// commands' parsers are in engage_command_line.cc.
#pragma once

#include <chrono>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "api/engagement_mode.h"
#include "cli/docker_run_args.h"
#include "cli/result.h"
#include "common/ipv4.h"

namespace tp::cli {

// Flags that apply to every command.
struct GlobalFlags {
  bool docker = false;  // run the daemon in a container (the only mode this build supports)
};

enum class OutputFormat { kText, kJson };

// `telepresence --help`, `telepresence help [COMMAND]` or `COMMAND --help`.
struct HelpRequest {
  std::string command{};  // empty: the overview of all commands
};

inline constexpr std::chrono::seconds kDefaultConnectTimeout{20};
inline constexpr std::chrono::seconds kMaxConnectTimeout{3600};

// `telepresence connect --docker [--context NAME] [--manager HOST:PORT] [--timeout SECONDS]
//  [--docker-subnet CIDR]`
struct ConnectCommand {
  std::optional<std::string> context_name{};              // valid per IsValidContextName when set
  std::optional<std::string> manager_override{};          // HOST:PORT when set
  std::chrono::seconds timeout = kDefaultConnectTimeout;  // 1..kMaxConnectTimeout
  std::optional<Ipv4Prefix> docker_subnet{};  // the Teleroute network's subnet (ParseDockerSubnet)
  std::optional<std::string> plugin_registry{};  // IsValidPluginRegistry; plugins.h
  bool upgrade_plugins = false;
  bool on_host = false;  // without --docker: the daemon runs on this host (host_daemon.h)
};

// `telepresence status [--context NAME] [--output json]`
struct StatusCommand {
  std::optional<std::string> context_name{};
  OutputFormat output = OutputFormat::kText;
};

// `telepresence quit [--context NAME]`
struct QuitCommand {
  std::optional<std::string> context_name{};
};

// `telepresence curl [--context NAME] [--] [CURL FLAGS] URL`
struct CurlCommand {
  std::optional<std::string> context_name{};
  std::vector<std::string> curl_args{};  // never empty
};

// `telepresence docker-run [--context NAME] [--] [DOCKER RUN FLAGS] IMAGE [ARGS]`: --context
// counts only before the first word that is not one of telepresence's flags; from there (or after
// a stand-alone `--`) every word goes to `docker run` unchanged.
struct DockerRunCommand {
  std::optional<std::string> context_name{};
  std::vector<std::string> docker_args{};  // never empty
};

using api::EngagementMode;
using api::EngagementModeName;

// --port LOCAL[:CONTAINER], Telepresence's <local port>:<container port>; --port PORT is PORT:PORT.
// The daemon runs in a container, so no port of the host is involved: LOCAL names the workload's
// port to engage (LOCAL when the workload has that port, else its first port), and CONTAINER is
// the port the handler listens on inside its container.
struct PortMapping {
  uint16_t local = 0;      // chooses the engaged workload port
  uint16_t container = 0;  // the handler's port; LOCAL when not given
  bool operator==(const PortMapping&) const = default;
};

// Where the handler's image comes from.
enum class HandlerImage {
  kDockerRun,    // --docker-run: the user's IMAGE
  kDockerBuild,  // --docker-build DIR: built, replaces the literal IMAGE
  kDockerDebug,  // --docker-debug DIR: built, and run with ptrace allowed, seccomp unconfined
};

// Which remote mounts become volumes (--mount).
struct MountSelection {
  bool enabled = true;                // --mount=false: none
  std::optional<std::string> only{};  // --mount PATH: only that one (an absolute path)
  bool read_only = false;             // --mount PATH:ro or true:ro: writes fail with EROFS
};

// `telepresence replace|intercept|ingest|wiretap WORKLOAD [--port LOCAL[:CONTAINER]]...
//  [--env-file F] [--mount PATH[:ro]|true[:ro]|false] [--docker-mount PATH] [--name NAME]
//  [--context NAME]
//  (--docker-run | --docker-build DIR [--docker-build-opt K=V]... | --docker-debug DIR)
//  -- [DOCKER RUN FLAGS] IMAGE [ARGS]`
struct EngageCommand {
  EngagementMode mode = EngagementMode::kReplace;
  std::string workload{};  // a DNS label (IsDnsLabel)
  std::string name{};      // the engagement's name: --name, else the workload; a DNS label
  std::optional<std::string> context_name{};
  std::vector<PortMapping> ports{};
  std::optional<std::string> env_file{};  // also write the remote env here
  MountSelection mounts{};
  std::optional<std::string> docker_mount{};  // absolute: volumes go to PATH + mount path
  HandlerImage image_source = HandlerImage::kDockerRun;
  std::string build_dir{};  // for kDockerBuild, kDockerDebug
  std::vector<std::pair<std::string, std::string>> build_options{};  // --docker-build-opt K=V
  DockerRunArgs docker_args{};  // image is "IMAGE" for the build sources
};

// `telepresence list [--context NAME] [--output json]`
struct ListCommand {
  std::optional<std::string> context_name{};
  OutputFormat output = OutputFormat::kText;
};

// `telepresence contexts [--output json]`
struct ContextsCommand {
  OutputFormat output = OutputFormat::kText;
};

inline constexpr uint16_t kDefaultUiPort = 7670;

// `telepresence ui [--port N] [--no-open] [--context NAME]` (docs/ui.md)
struct UiCommand {
  std::optional<std::string> context_name{};  // the context the page starts on
  uint16_t port = kDefaultUiPort;             // 0: any free port
  bool open_browser = true;
};

// `telepresence plugins status [--output json]`,
// `telepresence plugins install [--plugin-registry REGISTRY | --from FILE] [--upgrade]`
struct PluginsCommand {
  enum class Action { kStatus, kInstall };
  Action action = Action::kStatus;
  OutputFormat output = OutputFormat::kText;
  std::optional<std::string> plugin_registry{};  // IsValidPluginRegistry
  std::optional<std::string> from_file{};        // a release file of make dist
  bool upgrade = false;
};

// `telepresence version`
struct VersionCommand {};

// `telepresence leave NAME [--context NAME]`
struct LeaveCommand {
  std::string name{};
  std::optional<std::string> context_name{};
};

// `telepresence compose [--context NAME] [-f FILE]... [-p NAME] COMMAND [ARGS]`: docker-compose
// with the x-tele extension (compose_spec.h). The first word that is not one of these flags is
// docker-compose's command; it and every word after it go to docker-compose unchanged.
struct ComposeCommand {
  std::optional<std::string> context_name{};
  std::vector<std::string> files{};           // -f/--file, in order; empty: the default files
  std::optional<std::string> project_name{};  // -p/--project-name
  std::vector<std::string> compose_args{};    // never empty: COMMAND [ARGS]
};

using Command = std::variant<HelpRequest, ConnectCommand, StatusCommand, QuitCommand, CurlCommand,
                             DockerRunCommand, EngageCommand, ListCommand, LeaveCommand, UiCommand,
                             ContextsCommand, PluginsCommand, VersionCommand, ComposeCommand>;

struct CommandLine {
  GlobalFlags global;
  Command command;
};

// Parses the arguments after the program name.
Result<CommandLine> ParseCommandLine(std::span<const std::string> args);

// The help text for `command` ("" for the overview); ends with a newline. Precondition: command
// is "" or a known command name (IsKnownCommand).
std::string HelpText(std::string_view command);

bool IsKnownCommand(std::string_view command);

// The name of the context a command acts on: the one given with --context, else "default".
inline constexpr std::string_view kDefaultContextName = "default";

}  // namespace tp::cli
