#include "cli/command_line.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "cli/cli_config.h"
#include "cli/command_flags.h"
#include "cli/command_help.h"
#include "cli/compose_command_line.h"
#include "cli/engage_command_line.h"
#include "cli/teleroute_network.h"
#include "cli/validation.h"
#include "net/host_port.h"

namespace tp::cli {
namespace {

// --output json (kJson), absent (kText), or an error naming the one format there is.
Result<OutputFormat> OutputFlag(std::string_view command, const FlagValues& flags) {
  std::optional<std::string> format = flags.Get(kOutputFlag.name);
  if (!format) return OutputFormat::kText;
  if (*format != "json") {
    return CliError{"unsupported --output format '" + *format + "' for " + std::string(command) +
                    ": only json is supported" + SeeHelp(command)};
  }
  return OutputFormat::kJson;
}

Result<std::chrono::seconds> TimeoutFlag(std::string_view command, const FlagValues& flags) {
  std::optional<std::string> text = flags.Get(kTimeoutFlag.name);
  if (!text) return kDefaultConnectTimeout;
  std::string_view digits = *text;
  if (digits.ends_with('s')) digits.remove_suffix(1);
  int64_t seconds = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
      seconds < 1 || seconds > kMaxConnectTimeout.count()) {
    return CliError{"invalid --timeout '" + *text + "': give whole seconds from 1 to " +
                    std::to_string(kMaxConnectTimeout.count()) + ", e.g. --timeout 30" +
                    SeeHelp(command)};
  }
  return std::chrono::seconds(seconds);
}

Result<std::optional<std::string>> PluginRegistryFlag(std::string_view command,
                                                      const FlagValues& flags) {
  std::optional<std::string> registry = flags.Get(kPluginRegistryFlag.name);
  if (registry && !IsValidPluginRegistry(*registry)) {
    return CliError{"invalid --plugin-registry '" + *registry +
                    "': use HOST[:PORT][/PATH], e.g. registry.example.com:5000/telepresence" +
                    SeeHelp(command)};
  }
  return registry;
}

Result<Command> ParseConnect(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "connect";
  auto flags = ParseFlags(kCommand, args,
                          WithCommonFlags({kManagerFlag, kTimeoutFlag, kDockerSubnetFlag,
                                           kPluginRegistryFlag, kUpgradePluginsFlag}),
                          UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  ConnectCommand connect{.context_name = context_name.value(),
                         .manager_override = flags.value().Get(kManagerFlag.name)};
  if (connect.manager_override && !IsHostPort(*connect.manager_override)) {
    return CliError{"invalid --manager '" + *connect.manager_override +
                    "': use HOST:PORT, e.g. 127.0.0.1:8081" + SeeHelp(kCommand)};
  }
  auto timeout = TimeoutFlag(kCommand, flags.value());
  if (!timeout.ok()) return timeout.error();
  connect.timeout = timeout.value();
  if (auto subnet_text = flags.value().Get(kDockerSubnetFlag.name)) {
    Result<Ipv4Prefix> subnet = ParseDockerSubnet(*subnet_text);
    if (!subnet.ok()) return CliError{subnet.error().message + SeeHelp(kCommand)};
    connect.docker_subnet = subnet.value();
  }
  auto registry = PluginRegistryFlag(kCommand, flags.value());
  if (!registry.ok()) return registry.error();
  connect.plugin_registry = registry.value();
  connect.upgrade_plugins = flags.value().Has(kUpgradePluginsFlag.name);
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  connect.on_host = !global.docker;
  if (connect.on_host && connect.docker_subnet) {
    return CliError{
        "--docker-subnet is the Teleroute network's subnet, which only connect "
        "--docker makes" +
        SeeHelp(kCommand)};
  }
  return connect;
}

// A command that takes the common flags and --output (status, list):
// CommandType{context_name, output}.
template <typename CommandType>
Result<Command> ParseContextAndOutputCommand(std::string_view command,
                                             std::span<const std::string> args,
                                             GlobalFlags& global) {
  auto flags = ParseFlags(command, args, WithCommonFlags({kOutputFlag}), UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(command)};
  if (auto status = RejectPositionals(command, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(command, flags.value());
  if (!context_name.ok()) return context_name.error();
  auto output = OutputFlag(command, flags.value());
  if (!output.ok()) return output.error();
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return CommandType{.context_name = context_name.value(), .output = output.value()};
}

Result<Command> ParseStatus(std::span<const std::string> args, GlobalFlags& global) {
  return ParseContextAndOutputCommand<StatusCommand>("status", args, global);
}

// A command that takes the common flags and nothing else (quit): CommandType{context_name}.
template <typename CommandType>
Result<Command> ParseContextOnlyCommand(std::string_view command, std::span<const std::string> args,
                                        GlobalFlags& global) {
  auto flags = ParseFlags(command, args, WithCommonFlags({}), UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(command)};
  if (auto status = RejectPositionals(command, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(command, flags.value());
  if (!context_name.ok()) return context_name.error();
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return CommandType{.context_name = context_name.value()};
}

Result<Command> ParseQuit(std::span<const std::string> args, GlobalFlags& global) {
  return ParseContextOnlyCommand<QuitCommand>("quit", args, global);
}

// A command whose words after its own flags go on to another program (curl, docker run):
// CommandType{context_name, words}, or an error that says `needs` when there are none.
template <typename CommandType>
Result<Command> ParsePassThroughCommand(std::string_view command, std::span<const std::string> args,
                                        GlobalFlags& global, std::string_view needs) {
  auto flags = ParseFlags(command, args, WithCommonFlags({}), UnknownWords::kPassThrough);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(command)};
  auto context_name = ContextFlag(command, flags.value());
  if (!context_name.ok()) return context_name.error();
  if (flags.value().rest.empty()) return CliError{std::string(needs) + SeeHelp(command)};
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return CommandType{context_name.value(), flags.value().rest};
}

Result<Command> ParseCurl(std::span<const std::string> args, GlobalFlags& global) {
  return ParsePassThroughCommand<CurlCommand>(
      "curl", args, global,
      "curl needs at least a URL, e.g. telepresence curl http://echo.default:8080");
}

Result<Command> ParseDockerRun(std::span<const std::string> args, GlobalFlags& global) {
  return ParsePassThroughCommand<DockerRunCommand>(
      "docker-run", args, global,
      "docker-run needs at least an image, e.g. telepresence docker-run --rm busybox");
}

Result<Command> ParseList(std::span<const std::string> args, GlobalFlags& global) {
  return ParseContextAndOutputCommand<ListCommand>("list", args, global);
}

Result<Command> ParseContexts(std::span<const std::string> args, GlobalFlags&) {
  constexpr std::string_view kCommand = "contexts";
  const FlagSpec specs[] = {kHelpFlag, kOutputFlag};
  auto flags = ParseFlags(kCommand, args, specs, UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  auto output = OutputFlag(kCommand, flags.value());
  if (!output.ok()) return output.error();
  return ContextsCommand{.output = output.value()};
}

Result<Command> ParsePlugins(std::span<const std::string> args, GlobalFlags&) {
  constexpr std::string_view kCommand = "plugins";
  const FlagSpec specs[] = {kHelpFlag, kOutputFlag, kPluginRegistryFlag, kFromFlag, kUpgradeFlag};
  auto flags = ParseFlags(kCommand, args, specs, UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  const std::vector<std::string>& rest = flags.value().rest;
  if (rest.size() != 1 || (rest[0] != "status" && rest[0] != "install")) {
    return CliError{"plugins needs one action: status or install" + SeeHelp(kCommand)};
  }
  PluginsCommand plugins{.action = rest[0] == "status" ? PluginsCommand::Action::kStatus
                                                       : PluginsCommand::Action::kInstall};
  auto output = OutputFlag(kCommand, flags.value());
  if (!output.ok()) return output.error();
  plugins.output = output.value();
  auto registry = PluginRegistryFlag(kCommand, flags.value());
  if (!registry.ok()) return registry.error();
  plugins.plugin_registry = registry.value();
  plugins.from_file = flags.value().Get(kFromFlag.name);
  plugins.upgrade = flags.value().Has(kUpgradeFlag.name);
  const bool install_flags = plugins.plugin_registry || plugins.from_file || plugins.upgrade;
  if (plugins.action == PluginsCommand::Action::kStatus && install_flags) {
    return CliError{"--plugin-registry, --from and --upgrade are for plugins install" +
                    SeeHelp(kCommand)};
  }
  if (plugins.plugin_registry && plugins.from_file) {
    return CliError{"give either --plugin-registry or --from, not both" + SeeHelp(kCommand)};
  }
  if (plugins.from_file && plugins.from_file->empty()) {
    return CliError{"--from needs a file, e.g. --from telepresence-docker-0.1.0.tar.gz" +
                    SeeHelp(kCommand)};
  }
  return plugins;
}

Result<Command> ParseVersion(std::span<const std::string> args, GlobalFlags&) {
  constexpr std::string_view kCommand = "version";
  const FlagSpec specs[] = {kHelpFlag};
  auto flags = ParseFlags(kCommand, args, specs, UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  return VersionCommand{};
}

Result<Command> ParseUi(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "ui";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({kUiPortFlag, kNoOpenFlag}),
                          UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  UiCommand ui{.context_name = context_name.value(),
               .open_browser = !flags.value().Has(kNoOpenFlag.name)};
  if (std::optional<std::string> port = flags.value().Get(kUiPortFlag.name)) {
    std::optional<uint16_t> number = ParsePort(*port);
    if (!number) {
      return CliError{"invalid --port '" + *port +
                      "': use a port number 1-65535, or 0 for any free port" + SeeHelp(kCommand)};
    }
    ui.port = *number;
  }
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return ui;
}

Result<Command> ParseLeave(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "leave";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({}), UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  const std::vector<std::string>& rest = flags.value().rest;
  if (rest.size() != 1) {
    return CliError{std::string(rest.empty() ? "leave needs the NAME of the engagement to end"
                                             : "leave takes one NAME") +
                    " (telepresence list shows the engagements)" + SeeHelp(kCommand)};
  }
  auto name = DnsLabelArgument(kCommand, "engagement name", rest.front());
  if (!name.ok()) return name.error();
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return LeaveCommand{.name = name.value(), .context_name = context_name.value()};
}

using CommandParser = Result<Command> (*)(std::span<const std::string> args, GlobalFlags& global);

// One row per command: the only place a new command has to be registered.
struct CommandSpec {
  std::string_view name;
  std::string_view summary;  // one line for the overview
  CommandParser parse;
};

constexpr std::array kCommands{
    CommandSpec{"connect", "start the daemon container and connect to the cluster", ParseConnect},
    CommandSpec{"status", "show the connection's status", ParseStatus},
    CommandSpec{"quit", "stop the daemon container and clean up", ParseQuit},
    CommandSpec{"curl", "run curl inside the daemon's network", ParseCurl},
    CommandSpec{"docker-run", "docker run a container on the cluster's network", ParseDockerRun},
    CommandSpec{"replace", "run a container in a workload's place (all its traffic)", ParseReplace},
    CommandSpec{"intercept", "run a container that gets some ports of a workload", ParseIntercept},
    CommandSpec{"ingest", "run a container with a workload's env and volumes", ParseIngest},
    CommandSpec{"wiretap", "run a container that gets a copy of a workload's traffic",
                ParseWiretap},
    CommandSpec{"list", "list the workloads and their engagements", ParseList},
    CommandSpec{"leave", "end an engagement", ParseLeave},
    CommandSpec{"compose", "docker-compose with services engaging workloads (x-tele)",
                ParseCompose},
    CommandSpec{"contexts", "list the contexts (the clusters to connect to)", ParseContexts},
    CommandSpec{"ui", "serve the page that does all of this in a browser", ParseUi},
    CommandSpec{"plugins", "show or install the Docker plugins teleroute and telemount",
                ParsePlugins},
    CommandSpec{"version", "print this telepresence's version", ParseVersion},
};

const CommandSpec* FindCommand(std::string_view name) {
  auto found = std::find_if(kCommands.begin(), kCommands.end(),
                            [name](const CommandSpec& spec) { return spec.name == name; });
  return found == kCommands.end() ? nullptr : &*found;
}

std::string CommandNames() {
  std::string names;
  for (const CommandSpec& spec : kCommands) {
    if (!names.empty()) names += ", ";
    names += spec.name;
  }
  return names;
}

CliError UnknownCommand(std::string_view name) {
  return CliError{"unknown command '" + std::string(name) + "'; the commands are " +
                  CommandNames() + "; see telepresence --help"};
}

// `telepresence help [COMMAND]`
Result<CommandLine> ParseHelpCommand(std::span<const std::string> args, GlobalFlags global) {
  if (args.empty()) return CommandLine{global, HelpRequest{}};
  if (args.size() > 1) {
    return CliError{"help takes at most one command name; see telepresence --help"};
  }
  if (!IsKnownCommand(args.front())) return UnknownCommand(args.front());
  return CommandLine{global, HelpRequest{args.front()}};
}

}  // namespace

bool IsKnownCommand(std::string_view command) { return FindCommand(command) != nullptr; }

Result<CommandLine> ParseCommandLine(std::span<const std::string> args) {
  GlobalFlags global;
  size_t next = 0;
  for (; next < args.size() && LooksLikeFlag(args[next]); ++next) {
    const std::string& word = args[next];
    if (word == "--help" || word == "-h") return CommandLine{global, HelpRequest{}};
    if (word != "--docker") {
      return CliError{"unknown flag " + word + " before the command; see telepresence --help"};
    }
    global.docker = true;
  }
  if (next == args.size()) {
    return CliError{"no command given; the commands are " + CommandNames() +
                    "; see telepresence --help"};
  }
  const std::string& name = args[next];
  std::span<const std::string> command_args = args.subspan(next + 1);
  if (name == "help") return ParseHelpCommand(command_args, global);
  const CommandSpec* spec = FindCommand(name);
  if (spec == nullptr) return UnknownCommand(name);
  Result<Command> command = spec->parse(command_args, global);
  if (!command.ok()) return command.error();
  return CommandLine{global, std::move(command).value()};
}

std::string HelpText(std::string_view command) {
  if (FindCommand(command) != nullptr) return CommandHelp(command);
  std::string text =
      "Usage: telepresence [--docker] COMMAND [FLAGS] [-- ARGS]\n\n"
      "Runs containers on the laptop as if they ran in the cluster; the daemon runs in a "
      "container (connect --docker) or on this host (connect).\n\nCommands:\n";
  for (const CommandSpec& spec : kCommands) {
    std::string name(spec.name);
    name.resize(12, ' ');
    text += "  " + name + std::string(spec.summary) + "\n";
  }
  text +=
      "\nGlobal flags:\n"
      "  --docker    run the daemon in a container (connect without it: on this host, as\n"
      "              root; replace, intercept, ingest and wiretap connect with --docker when\n"
      "              no daemon runs)\n"
      "  -h, --help  show this help\n\n"
      "Run telepresence COMMAND --help for a command's flags.\n";
  return text;
}

}  // namespace tp::cli
