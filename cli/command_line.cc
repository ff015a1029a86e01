#include "cli/command_line.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>

#include "cli/teleroute_network.h"
#include "cli/validation.h"

namespace tp::cli {
namespace {

// One flag a command accepts. A flag with an empty value_name is boolean.
struct FlagSpec {
  std::string_view name;        // "--context"
  std::string_view short_name;  // "-o", or empty
  std::string_view value_name;  // "NAME", or empty for a boolean flag
};

constexpr FlagSpec kHelpFlag{"--help", "-h", ""};
constexpr FlagSpec kDockerFlag{"--docker", "", ""};
constexpr FlagSpec kContextFlag{"--context", "", "NAME"};
constexpr FlagSpec kManagerFlag{"--manager", "", "HOST:PORT"};
constexpr FlagSpec kOutputFlag{"--output", "-o", "FORMAT"};
constexpr FlagSpec kTimeoutFlag{"--timeout", "", "SECONDS"};
constexpr FlagSpec kDockerSubnetFlag{"--docker-subnet", "", "CIDR"};

// What ParseFlags does with a word that is not one of the command's flags.
enum class UnknownWords {
  kReject,       // an unknown flag is an error; other words are positional arguments
  kPassThrough,  // it and every word after it go to `rest` unchanged (curl's arguments)
};

struct FlagValues {
  std::map<std::string_view, std::string> values;  // by FlagSpec::name; "" for boolean flags
  std::vector<std::string> rest;                   // positional or passed-through words

  bool Has(std::string_view name) const { return values.contains(name); }
  std::optional<std::string> Get(std::string_view name) const {
    auto found = values.find(name);
    if (found == values.end()) return std::nullopt;
    return found->second;
  }
};

std::string SeeHelp(std::string_view command) {
  return "; see telepresence " + std::string(command) + " --help";
}

const FlagSpec* FindFlag(std::span<const FlagSpec> specs, std::string_view word) {
  auto matches = [word](const FlagSpec& spec) {
    return word == spec.name || (!spec.short_name.empty() && word == spec.short_name);
  };
  auto found = std::find_if(specs.begin(), specs.end(), matches);
  return found == specs.end() ? nullptr : &*found;
}

bool LooksLikeFlag(std::string_view word) { return word.size() >= 2 && word.front() == '-'; }

// Reads a command's flags. `--help` wins over every error so that a user can always get help.
Result<FlagValues> ParseFlags(std::string_view command, std::span<const std::string> args,
                              std::span<const FlagSpec> specs, UnknownWords unknown_words) {
  FlagValues parsed;
  std::optional<CliError> first_error;
  auto fail = [&](const std::string& problem) {
    if (!first_error) first_error = CliError{problem + SeeHelp(command)};
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      parsed.rest.insert(parsed.rest.end(), args.begin() + i + 1, args.end());
      break;
    }
    size_t equals = word.find('=');
    std::string_view name = std::string_view(word).substr(0, equals);
    const FlagSpec* spec = LooksLikeFlag(word) ? FindFlag(specs, name) : nullptr;
    if (spec == nullptr && unknown_words == UnknownWords::kPassThrough) {
      parsed.rest.insert(parsed.rest.end(), args.begin() + i, args.end());
      break;
    }
    if (spec == nullptr && LooksLikeFlag(word)) {
      fail("unknown flag " + std::string(name) + " for " + std::string(command));
      continue;
    }
    if (spec == nullptr) {
      parsed.rest.push_back(word);
      continue;
    }
    std::string flag(spec->name);
    if (spec->value_name.empty()) {
      if (equals != std::string::npos) fail("flag " + flag + " takes no value");
      parsed.values[spec->name] = "";
      continue;
    }
    if (parsed.Has(spec->name)) {
      fail("flag " + flag + " given twice for " + std::string(command));
      continue;
    }
    if (equals != std::string::npos) {
      parsed.values[spec->name] = word.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      parsed.values[spec->name] = args[++i];
    } else {
      fail("flag " + flag + " needs a value (" + std::string(spec->value_name) + ")");
    }
  }
  if (parsed.Has(kHelpFlag.name) || !first_error) return parsed;
  return *first_error;
}

Result<std::optional<std::string>> ContextFlag(std::string_view command, const FlagValues& flags) {
  std::optional<std::string> name = flags.Get(kContextFlag.name);
  if (name && !IsValidContextName(*name)) {
    return CliError{"invalid context name '" + *name + "' (" + std::string(ContextNameRule()) +
                    ")" + SeeHelp(command)};
  }
  return name;
}

Status RejectPositionals(std::string_view command, const FlagValues& flags) {
  if (flags.rest.empty()) return Ok{};
  return CliError{std::string(command) + " takes no arguments, got '" + flags.rest.front() + "'" +
                  SeeHelp(command)};
}

// The flags every command accepts besides its own.
std::vector<FlagSpec> WithCommonFlags(std::initializer_list<FlagSpec> own) {
  std::vector<FlagSpec> specs{kHelpFlag, kDockerFlag, kContextFlag};
  specs.insert(specs.end(), own);
  return specs;
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

Result<Command> ParseConnect(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "connect";
  auto flags =
      ParseFlags(kCommand, args, WithCommonFlags({kManagerFlag, kTimeoutFlag, kDockerSubnetFlag}),
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
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  if (!global.docker) {
    return CliError{
        "connect needs --docker: this telepresence runs its daemon only in a container; run "
        "telepresence connect --docker"};
  }
  return connect;
}

Result<Command> ParseStatus(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "status";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({kOutputFlag}), UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  StatusCommand status_command{.context_name = context_name.value()};
  if (auto format = flags.value().Get(kOutputFlag.name)) {
    if (*format != "json") {
      return CliError{"unsupported --output format '" + *format +
                      "' for status: only json is supported" + SeeHelp(kCommand)};
    }
    status_command.output = OutputFormat::kJson;
  }
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return status_command;
}

Result<Command> ParseQuit(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "quit";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({}), UnknownWords::kReject);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  if (auto status = RejectPositionals(kCommand, flags.value()); !status.ok()) return status.error();
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return QuitCommand{.context_name = context_name.value()};
}

Result<Command> ParseCurl(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "curl";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({}), UnknownWords::kPassThrough);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  if (flags.value().rest.empty()) {
    return CliError{"curl needs at least a URL, e.g. telepresence curl http://echo.default:8080" +
                    SeeHelp(kCommand)};
  }
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return CurlCommand{.context_name = context_name.value(), .curl_args = flags.value().rest};
}

Result<Command> ParseDockerRun(std::span<const std::string> args, GlobalFlags& global) {
  constexpr std::string_view kCommand = "docker-run";
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({}), UnknownWords::kPassThrough);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  if (flags.value().rest.empty()) {
    return CliError{
        "docker-run needs at least an image, e.g. telepresence docker-run --rm busybox" +
        SeeHelp(kCommand)};
  }
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return DockerRunCommand{.context_name = context_name.value(), .docker_args = flags.value().rest};
}

using CommandParser = Result<Command> (*)(std::span<const std::string> args, GlobalFlags& global);

// One row per command: the only place a new command has to be registered.
struct CommandSpec {
  std::string_view name;
  std::string_view summary;  // one line for the overview
  std::string_view help;     // the full `COMMAND --help` text
  CommandParser parse;
};

constexpr std::string_view kConnectHelp =
    R"help(Usage: telepresence connect --docker [--context NAME] [--manager HOST:PORT]
                                     [--timeout SECONDS] [--docker-subnet CIDR]

Starts the daemon container tp-<context>-cn on Docker's default bridge network and waits until
it is connected to the cluster's traffic-manager and serves DNS for cluster names. Builds the
images tp-daemon:latest and tp-curl:latest first when they are missing (from a build tree; else
run make images), and installs or enables the Docker plugins teleroute:latest and
telemount:latest when they are missing or disabled (from a build tree; else run make plugins).
A daemon of the context that already runs connected is kept; one that runs but is not
connected, or has stopped, is removed and started afresh.

Then it creates the Teleroute network tp-<context> (driver teleroute:latest), on which the
daemon is the gateway to the cluster's subnets and the DNS server, and attaches the daemon to
it; telepresence docker-run puts containers on it. Its IPv4 subnet is the one given with
--docker-subnet, else the first /24 from 10.200.0.0/16, 10.201.0.0/16, ... 10.255.0.0/16 that
overlaps neither the cluster's subnets nor any Docker network. The gateway is its first address,
the daemon its second. A leftover network of that name is removed first.

The traffic-manager address must be reachable from containers: not 127.0.0.1 or localhost,
which inside the daemon container is the container itself; publish the manager on the Docker
bridge's gateway address (usually 172.17.0.1) and give that.

The daemon's control API is published on 127.0.0.1 only. A manager that refuses the daemon
(wrong secret) fails at once; one that cannot be reached fails after the timeout with the
daemon's last error. Either way, and when the network cannot be made, the daemon container and
the network are removed again.

Prints, on success, the daemon container, the cluster's subnets, its DNS search domains, the
line "Teleroute network: tp-NAME (SUBNET, daemon ADDRESS)" and a last line "Connected to
HOST:PORT (context NAME) in N.N s"; or "Already connected to HOST:PORT (context NAME)" after the
network line. Progress goes to stderr.

Flags:
  --docker             run the daemon in a container (required: the only mode of this build)
  --context NAME       the context to use (default: default), read from
                       ${XDG_CONFIG_HOME:-$HOME/.config}/telepresence-docker/contexts/NAME.json
  --manager HOST:PORT  use this traffic-manager address instead of the context's
  --timeout SECONDS    how long to wait for the connection (default 20)
  --docker-subnet CIDR the Teleroute network's IPv4 subnet, prefix length 16 to 29 (e.g.
                       10.200.0.0/24); it must not overlap the cluster's or Docker's subnets
  -h, --help           show this help

Exit codes: 0 connected, 1 failed (the message says why and what to check), 2 bad arguments.
)help";

constexpr std::string_view kStatusHelp =
    R"help(Usage: telepresence status [--context NAME] [--output json]

Shows whether the context's daemon container runs and is connected, and what it connected to:
one "Key: value" per line, the first "Connected: yes" or "Connected: no" (after a line "Not
connected (context NAME)" when there is no daemon), with "Teleroute network: tp-NAME (SUBNET,
daemon ADDRESS)" or "none". With --output json: the daemon's status object ("connected",
"manager", "subnets", "dns", "error", "reconnects") with "context", "container" and
"teleroute_network" ({"name","subnet","daemon"} or null) added, or
{"connected":false,"context":NAME,"container":null}.

Flags:
  --context NAME       the context (default: default)
  -o, --output json    print the status as JSON
  -h, --help           show this help

Exit codes: 0 status shown (connected or not), 1 the daemon or Docker did not answer.
)help";

constexpr std::string_view kQuitHelp =
    R"help(Usage: telepresence quit [--context NAME]

Asks the context's daemon to quit (POST /quit on its control API), waits until its container is
gone (removing it by force after 10 s), then removes whatever else telepresence created for the
context (containers, networks and volumes labelled tp.daemon=NAME) and the Teleroute network
tp-NAME, disconnecting by force the containers still on it (they lose the cluster, not their
other networks). Prints "Removed the Teleroute network tp-NAME" (with the containers it
disconnected) and "Disconnected (context NAME)", or "Not connected (context NAME); nothing to
quit".

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help

Exit codes: 0 done (also when nothing ran), 1 something could not be removed.
)help";

constexpr std::string_view kCurlHelp =
    R"help(Usage: telepresence curl [--context NAME] [--] [CURL FLAGS] URL

Runs curl in a container (tp-curl:latest) that shares the daemon container's network and DNS,
so cluster names and addresses resolve and connect as inside the cluster:
  docker run --rm -i --init --pull never --network container:tp-NAME-cn tp-curl:latest curl ARGS
Its stdin, stdout and stderr are this command's; the exit code is curl's (125 when docker could
not run it). Needs a running daemon: without one it fails (exit 1) saying to run telepresence
connect --docker. Builds tp-curl:latest first when it is missing.

From the first word that is not a flag below (or after --) every word goes to curl unchanged:
telepresence curl -- --help shows curl's own help.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kDockerRunHelp =
    R"help(Usage: telepresence docker-run [--context NAME] [--] [DOCKER RUN FLAGS] IMAGE [ARGS]

Runs a container with docker run on the context's Teleroute network tp-NAME, so that it reaches
the cluster's services by name and by address through the daemon, with the daemon's DNS:
  docker run --network tp-NAME --dns DAEMON --dns-search DOMAIN... --dns-option ndots:5
    [DOCKER RUN FLAGS] IMAGE [ARGS]
DAEMON is the daemon's address on the network and the DOMAINs are the cluster's DNS search
domains (telepresence status shows both). Ports published with -p answer on the host. Several
such containers can run at once.

From the first word that is not a flag below (or after --) every word goes to docker run
unchanged, as separate arguments (never through a shell): telepresence docker-run -it --rm
busybox sh. docker run's stdin, stdout and stderr are this command's, so -it and -d work; the
exit code is docker run's.

Needs a daemon started with telepresence connect --docker: without one, or without its
network, it fails (exit 1) saying so.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::array kCommands{
    CommandSpec{"connect", "start the daemon container and connect to the cluster", kConnectHelp,
                ParseConnect},
    CommandSpec{"status", "show the connection's status", kStatusHelp, ParseStatus},
    CommandSpec{"quit", "stop the daemon container and clean up", kQuitHelp, ParseQuit},
    CommandSpec{"curl", "run curl inside the daemon's network", kCurlHelp, ParseCurl},
    CommandSpec{"docker-run", "docker run a container on the cluster's network", kDockerRunHelp,
                ParseDockerRun},
};

// Commands of later issues: named so that the error is honest about them.
constexpr std::array<std::string_view, 6> kPlannedCommands{"replace", "intercept", "ingest",
                                                           "wiretap", "list",      "leave"};

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
  bool planned =
      std::find(kPlannedCommands.begin(), kPlannedCommands.end(), name) != kPlannedCommands.end();
  return CliError{"unknown command '" + std::string(name) + "'" +
                  (planned ? " (not implemented yet in this build)" : "") + "; the commands are " +
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
  if (const CommandSpec* spec = FindCommand(command)) return std::string(spec->help);
  std::string text =
      "Usage: telepresence [--docker] COMMAND [FLAGS] [-- ARGS]\n\n"
      "Runs containers on the laptop as if they ran in the cluster; the daemon runs in a "
      "container.\n\nCommands:\n";
  for (const CommandSpec& spec : kCommands) {
    std::string name(spec.name);
    name.resize(12, ' ');
    text += "  " + name + std::string(spec.summary) + "\n";
  }
  text +=
      "\nGlobal flags:\n"
      "  --docker    run the daemon in a container\n"
      "  -h, --help  show this help\n\n"
      "Run telepresence COMMAND --help for a command's flags.\n";
  return text;
}

}  // namespace tp::cli
