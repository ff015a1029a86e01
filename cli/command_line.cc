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
  bool repeatable = false;      // may be given several times (FlagValues::All)
};

constexpr FlagSpec kHelpFlag{"--help", "-h", ""};
constexpr FlagSpec kDockerFlag{"--docker", "", ""};
constexpr FlagSpec kContextFlag{"--context", "", "NAME"};
constexpr FlagSpec kManagerFlag{"--manager", "", "HOST:PORT"};
constexpr FlagSpec kOutputFlag{"--output", "-o", "FORMAT"};
constexpr FlagSpec kTimeoutFlag{"--timeout", "", "SECONDS"};
constexpr FlagSpec kDockerSubnetFlag{"--docker-subnet", "", "CIDR"};
constexpr FlagSpec kPortFlag{"--port", "", "LOCAL[:CONTAINER]", true};
constexpr FlagSpec kEnvFileFlag{"--env-file", "", "FILE"};
constexpr FlagSpec kMountFlag{"--mount", "", "PATH|true|false"};
constexpr FlagSpec kDockerMountFlag{"--docker-mount", "", "PATH"};
constexpr FlagSpec kNameFlag{"--name", "", "NAME"};
constexpr FlagSpec kDockerRunFlag{"--docker-run", "", ""};
constexpr FlagSpec kDockerBuildFlag{"--docker-build", "", "DIR"};
constexpr FlagSpec kDockerBuildOptFlag{"--docker-build-opt", "", "KEY=VALUE", true};
constexpr FlagSpec kDockerDebugFlag{"--docker-debug", "", "DIR"};

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
      parsed.after_dash_dash = parsed.rest.size();
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
    if (parsed.Has(spec->name) && !spec->repeatable) {
      fail("flag " + flag + " given twice for " + std::string(command));
      continue;
    }
    std::optional<std::string> value;
    if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      fail("flag " + flag + " needs a value (" + std::string(spec->value_name) + ")");
      continue;
    }
    parsed.values[spec->name] = *value;
    if (spec->repeatable) parsed.repeated[spec->name].push_back(*value);
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

// A command that takes the common flags and nothing else (quit, list): CommandType{context_name}.
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

Result<PortMapping> ParsePortMapping(std::string_view command, const std::string& text) {
  auto number = [](std::string_view digits) -> std::optional<uint16_t> {
    uint32_t port = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
        port < 1 || port > 65535) {
      return std::nullopt;
    }
    return static_cast<uint16_t>(port);
  };
  size_t colon = text.find(':');
  std::optional<uint16_t> local = number(std::string_view(text).substr(0, colon));
  std::optional<uint16_t> container = local;
  if (colon != std::string::npos) container = number(std::string_view(text).substr(colon + 1));
  if (!local || !container) {
    return CliError{"invalid --port '" + text +
                    "': use PORT or LOCAL:CONTAINER with port numbers from 1 to 65535, e.g. "
                    "--port 8080 or --port 8080:8081" +
                    SeeHelp(command)};
  }
  return PortMapping{.local = *local, .container = *container};
}

Result<std::string> DnsLabelArgument(std::string_view command, std::string_view what,
                                     const std::string& value) {
  if (IsDnsLabel(value)) return value;
  return CliError{"invalid " + std::string(what) + " '" + value + "' (" +
                  std::string(DnsLabelRule()) + ")" + SeeHelp(command)};
}

// Which of --docker-run, --docker-build and --docker-debug: exactly one.
Result<HandlerImage> HandlerImageFlag(std::string_view command, const FlagValues& flags) {
  bool run = flags.Has(kDockerRunFlag.name);
  bool build = flags.Has(kDockerBuildFlag.name);
  bool debug = flags.Has(kDockerDebugFlag.name);
  if (build && debug) {
    return CliError{
        "--docker-debug builds like --docker-build and adds what a debugger needs; "
        "give only one of them" +
        SeeHelp(command)};
  }
  if (run && (build || debug)) {
    std::string other = build ? "--docker-build" : "--docker-debug";
    return CliError{other +
                    " implies --docker-run (it runs the image it builds); drop "
                    "--docker-run" +
                    SeeHelp(command)};
  }
  if (!run && !build && !debug) {
    return CliError{std::string(command) +
                    " needs a handler container: give --docker-run (run an image), "
                    "--docker-build DIR or --docker-debug DIR (build one), e.g. telepresence " +
                    std::string(command) + " WORKLOAD --docker-run -- my-image" + SeeHelp(command)};
  }
  if (flags.Has(kDockerBuildOptFlag.name) && !build && !debug) {
    return CliError{
        "--docker-build-opt applies to --docker-build or --docker-debug; drop it or "
        "build the image with one of them" +
        SeeHelp(command)};
  }
  return build   ? HandlerImage::kDockerBuild
         : debug ? HandlerImage::kDockerDebug
                 : HandlerImage::kDockerRun;
}

Result<std::vector<std::pair<std::string, std::string>>> BuildOptions(std::string_view command,
                                                                      const FlagValues& flags) {
  std::vector<std::pair<std::string, std::string>> options;
  for (const std::string& option : flags.All(kDockerBuildOptFlag.name)) {
    size_t equals = option.find('=');
    std::string key = option.substr(0, equals);
    bool key_ok = !key.empty() && key.front() >= 'a' && key.front() <= 'z' &&
                  std::all_of(key.begin(), key.end(), [](char c) {
                    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
                  });
    if (equals == std::string::npos || !key_ok) {
      return CliError{"invalid --docker-build-opt '" + option +
                      "': use KEY=VALUE with a docker build flag's name as KEY, e.g. "
                      "--docker-build-opt file=Dockerfile.dev or --docker-build-opt "
                      "build-arg=VERSION=2" +
                      SeeHelp(command)};
    }
    options.emplace_back(key, option.substr(equals + 1));
  }
  return options;
}

Result<MountSelection> MountFlag(std::string_view command, const FlagValues& flags) {
  std::optional<std::string> value = flags.Get(kMountFlag.name);
  if (!value || *value == "true") return MountSelection{};
  if (*value == "false") {
    if (flags.Has(kDockerMountFlag.name)) {
      return CliError{
          "--docker-mount says where to mount the remote volumes and --mount=false "
          "says not to mount them; drop one of them" +
          SeeHelp(command)};
    }
    return MountSelection{.enabled = false};
  }
  if (!value->starts_with('/')) {
    return CliError{"invalid --mount '" + *value +
                    "': give true, false, or the absolute path of one of the workload's mounts "
                    "(telepresence list shows them)" +
                    SeeHelp(command)};
  }
  return MountSelection{.enabled = true, .only = *value};
}

// The user's docker run words: refuses what would break the engagement.
Status CheckDockerRunFlags(std::string_view command, const DockerRunArgs& args,
                           HandlerImage image_source) {
  if (args.options.detach) {
    return CliError{
        "the engagement lasts as long as docker run in the foreground; drop -d/--detach "
        "from the docker run flags" +
        SeeHelp(command)};
  }
  if (args.options.network) {
    return CliError{
        "telepresence puts the handler on the context's network tp-CONTEXT, where the "
        "engaged traffic reaches it; drop --network from the docker run flags" +
        SeeHelp(command)};
  }
  if (image_source != HandlerImage::kDockerRun && args.image != "IMAGE") {
    std::string flag =
        image_source == HandlerImage::kDockerBuild ? "--docker-build" : "--docker-debug";
    return CliError{"with " + flag +
                    " the image is the one built from DIR: write the literal "
                    "IMAGE where the image goes (e.g. -- --rm IMAGE ARGS), not '" +
                    args.image + "'" + SeeHelp(command)};
  }
  return Ok{};
}

Result<Command> ParseEngage(EngagementMode mode, std::span<const std::string> args,
                            GlobalFlags& global) {
  const std::string_view command = EngagementModeName(mode);
  auto parsed = ParseFlags(
      command, args,
      WithCommonFlags({kPortFlag, kEnvFileFlag, kMountFlag, kDockerMountFlag, kNameFlag,
                       kDockerRunFlag, kDockerBuildFlag, kDockerBuildOptFlag, kDockerDebugFlag}),
      UnknownWords::kReject);
  if (!parsed.ok()) return parsed.error();
  const FlagValues& flags = parsed.value();
  if (flags.Has(kHelpFlag.name)) return HelpRequest{std::string(command)};
  const size_t own_words = flags.after_dash_dash.value_or(flags.rest.size());
  if (own_words == 0) {
    return CliError{std::string(command) + " needs the WORKLOAD to engage, e.g. telepresence " +
                    std::string(command) + " echo --docker-run -- my-image" + SeeHelp(command)};
  }
  if (own_words > 1) {
    return CliError{std::string(command) + " takes one WORKLOAD, got '" + flags.rest[1] +
                    "' too; docker run's flags and the image go after a stand-alone --" +
                    SeeHelp(command)};
  }
  EngageCommand engage{.mode = mode};
  auto workload = DnsLabelArgument(command, "workload name", flags.rest.front());
  if (!workload.ok()) return workload.error();
  engage.workload = workload.value();
  auto name =
      DnsLabelArgument(command, "--name", flags.Get(kNameFlag.name).value_or(engage.workload));
  if (!name.ok()) return name.error();
  engage.name = name.value();
  auto context_name = ContextFlag(command, flags);
  if (!context_name.ok()) return context_name.error();
  engage.context_name = context_name.value();
  for (const std::string& text : flags.All(kPortFlag.name)) {
    auto port = ParsePortMapping(command, text);
    if (!port.ok()) return port.error();
    engage.ports.push_back(port.value());
  }
  if (mode == EngagementMode::kIngest && !engage.ports.empty()) {
    return CliError{
        "ingest engages no traffic, so it takes no --port; use intercept to receive "
        "a port's traffic" +
        SeeHelp(command)};
  }
  engage.env_file = flags.Get(kEnvFileFlag.name);
  auto mounts = MountFlag(command, flags);
  if (!mounts.ok()) return mounts.error();
  engage.mounts = mounts.value();
  engage.docker_mount = flags.Get(kDockerMountFlag.name);
  if (engage.docker_mount && !engage.docker_mount->starts_with('/')) {
    return CliError{"invalid --docker-mount '" + *engage.docker_mount +
                    "': give an absolute path in the container, e.g. --docker-mount /remote" +
                    SeeHelp(command)};
  }
  auto image_source = HandlerImageFlag(command, flags);
  if (!image_source.ok()) return image_source.error();
  engage.image_source = image_source.value();
  engage.build_dir =
      flags.Get(kDockerBuildFlag.name).value_or(flags.Get(kDockerDebugFlag.name).value_or(""));
  auto build_options = BuildOptions(command, flags);
  if (!build_options.ok()) return build_options.error();
  engage.build_options = build_options.value();
  if (!flags.after_dash_dash) {
    return CliError{std::string(command) +
                    " needs the docker run words after a stand-alone --, at least the image, "
                    "e.g. telepresence " +
                    std::string(command) + " " + engage.workload +
                    " --docker-run -- --rm my-image" + SeeHelp(command)};
  }
  auto docker_args = SplitDockerRunArgs(std::vector<std::string>(
      flags.rest.begin() + static_cast<ptrdiff_t>(own_words), flags.rest.end()));
  if (!docker_args.ok()) return CliError{docker_args.error().message + SeeHelp(command)};
  engage.docker_args = docker_args.value();
  if (Status checked = CheckDockerRunFlags(command, engage.docker_args, engage.image_source);
      !checked.ok()) {
    return checked.error();
  }
  global.docker = true;  // the only daemon this build has runs in a container
  return engage;
}

Result<Command> ParseReplace(std::span<const std::string> args, GlobalFlags& global) {
  return ParseEngage(EngagementMode::kReplace, args, global);
}
Result<Command> ParseIntercept(std::span<const std::string> args, GlobalFlags& global) {
  return ParseEngage(EngagementMode::kIntercept, args, global);
}
Result<Command> ParseIngest(std::span<const std::string> args, GlobalFlags& global) {
  return ParseEngage(EngagementMode::kIngest, args, global);
}
Result<Command> ParseWiretap(std::span<const std::string> args, GlobalFlags& global) {
  return ParseEngage(EngagementMode::kWiretap, args, global);
}

Result<Command> ParseList(std::span<const std::string> args, GlobalFlags& global) {
  return ParseContextOnlyCommand<ListCommand>("list", args, global);
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

// The help of replace, intercept, ingest and wiretap: one text, the mode's name and sentence in.
constexpr std::string_view kEngageHelpBody =
    R"help(                 [--env-file FILE] [--mount PATH|true|false] [--docker-mount PATH]
                 [--name NAME] [--context NAME]
                 (--docker-run | --docker-build DIR [--docker-build-opt KEY=VALUE]... |
                  --docker-debug DIR)
                 -- [DOCKER RUN FLAGS] IMAGE [ARGS]

Runs a handler container with docker run in the foreground in the place of the cluster's
WORKLOAD: it gets the workload's environment (docker run --env-file) and its volumes (one
telemount volume per mount, at the same path), sits on the context's network tp-CONTEXT with
the daemon's DNS, so it reaches the cluster like the workload does, and gets its traffic as the
mode says. The engagement lasts exactly as long as docker run: when the container exits, on
Ctrl-C (SIGINT or SIGTERM to telepresence stops the container), or when docker run fails, the
engagement ends and its volumes and env file are removed. The exit code is docker run's.

This telepresence runs its daemon only in a container (as with the global --docker flag): when
no daemon runs, it connects first like telepresence connect --docker [--context NAME].

Everything after the stand-alone -- goes to docker run as separate words (never through a
shell); the first word that is not a docker run flag or a flag's value is the image. Added to
them: --rm and --name intercept-NAME-PORT (unless given), --label
telepresence.engagement=ID, --network tp-CONTEXT, --dns, --dns-search, --dns-option ndots:5,
--env-file (a private temporary file), -v VOLUME:PATH for each remote mount that the flags do
not mount themselves (-v X:PATH, --mount target=PATH). -d and --network are refused.

Flags:
  --port LOCAL[:CONTAINER]  LOCAL names the workload's port to engage (its only port when it
                      has just one); CONTAINER (default: LOCAL) is the port the handler
                      listens on inside its container, so in-cluster requests to that workload
                      port reach the handler's port CONTAINER. Nothing is published on the host
                      (add -p HOST_PORT:CONTAINER after -- for that). May be repeated. replace
                      engages every port (the others on the same port number); intercept and
                      wiretap the --port ones (default: the first); ingest none
  --env-file FILE     also write the workload's environment to FILE (KEY=VALUE lines)
  --mount PATH|true|false  mount the workload's volumes (true, the default), only the one at
                      PATH, or none (false)
  --docker-mount PATH mount the volumes under PATH in the container (PATH/MOUNT PATH)
  --name NAME         the engagement's name (default: WORKLOAD); telepresence leave NAME ends it
  --docker-run        run IMAGE as the handler
  --docker-build DIR  build the handler's image from DIR (docker build, legacy builder) and
                      run it: write the literal IMAGE where the image goes
  --docker-build-opt KEY=VALUE  pass --KEY VALUE to docker build, e.g. file=Dockerfile.dev,
                      target=dev, build-arg=VERSION=2; may be repeated
  --docker-debug DIR  like --docker-build, and run with --cap-add SYS_PTRACE --security-opt
                      seccomp=unconfined so that a debugger works
  --context NAME      the context (default: default)
  --docker            run the daemon in a container (implied)
  -h, --help          show this help

Exit codes: docker run's once it ran; 1 the engagement could not be made (the daemon's or
Docker's sentence says why: unknown workload or port, already engaged, ...); 2 bad arguments.
)help";

std::string EngageHelp(std::string_view mode, std::string_view what) {
  return "Usage: telepresence " + std::string(mode) + " WORKLOAD [--port LOCAL[:CONTAINER]]...\n" +
         std::string(kEngageHelpBody) + "\n" + std::string(mode) + ": " + std::string(what) + "\n";
}

constexpr std::string_view kListHelp =
    R"help(Usage: telepresence list [--context NAME]

Lists the cluster's workloads that have a traffic-agent (GET /workloads on the daemon): one row
per workload with its ports and its engagement ("NAME (MODE PORTS)", or "-"). Needs a running
daemon (telepresence connect --docker).

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kLeaveHelp =
    R"help(Usage: telepresence leave NAME [--context NAME]

Ends the engagement NAME (the --name of replace, intercept, ingest or wiretap; telepresence list
shows them) and removes its handler container (docker rm -f); the telepresence command that ran
the handler then removes its volumes and exits. An unknown NAME is an error.

Flags:
  --context NAME       the context (default: default)
  -h, --help           show this help
)help";

constexpr std::string_view kReplaceSentence = "every port of the workload goes to the handler.";
constexpr std::string_view kInterceptSentence =
    "the --port ports (default: the first) go to the handler; the others reach the workload.";
constexpr std::string_view kIngestSentence =
    "no traffic changes; the handler gets the environment and volumes.";
constexpr std::string_view kWiretapSentence =
    "the workload still answers; the handler gets a copy of what clients send to the --port "
    "ports (its answers are dropped).";

std::string ModeHelp(std::string_view mode);

constexpr std::array kCommands{
    CommandSpec{"connect", "start the daemon container and connect to the cluster", kConnectHelp,
                ParseConnect},
    CommandSpec{"status", "show the connection's status", kStatusHelp, ParseStatus},
    CommandSpec{"quit", "stop the daemon container and clean up", kQuitHelp, ParseQuit},
    CommandSpec{"curl", "run curl inside the daemon's network", kCurlHelp, ParseCurl},
    CommandSpec{"docker-run", "docker run a container on the cluster's network", kDockerRunHelp,
                ParseDockerRun},
    CommandSpec{"replace", "run a container in a workload's place (all its traffic)", "",
                ParseReplace},
    CommandSpec{"intercept", "run a container that gets some ports of a workload", "",
                ParseIntercept},
    CommandSpec{"ingest", "run a container with a workload's env and volumes", "", ParseIngest},
    CommandSpec{"wiretap", "run a container that gets a copy of a workload's traffic", "",
                ParseWiretap},
    CommandSpec{"list", "list the workloads and their engagements", kListHelp, ParseList},
    CommandSpec{"leave", "end an engagement", kLeaveHelp, ParseLeave},
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

std::string ModeHelp(std::string_view mode) {
  if (mode == "replace") return EngageHelp(mode, kReplaceSentence);
  if (mode == "intercept") return EngageHelp(mode, kInterceptSentence);
  if (mode == "ingest") return EngageHelp(mode, kIngestSentence);
  return EngageHelp(mode, kWiretapSentence);
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
  if (const CommandSpec* spec = FindCommand(command)) {
    return spec->help.empty() ? ModeHelp(spec->name) : std::string(spec->help);
  }
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
      "  --docker    run the daemon in a container (the only mode of this build; replace,\n"
      "              intercept, ingest and wiretap connect with it when no daemon runs)\n"
      "  -h, --help  show this help\n\n"
      "Run telepresence COMMAND --help for a command's flags.\n";
  return text;
}

}  // namespace tp::cli
