#include "cli/engage_command_line.h"

#include <algorithm>
#include <charconv>

#include "cli/command_flags.h"

namespace tp::cli {
namespace {

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
  // A ":ro" suffix mounts read-only (a path has no colon of its own: Docker refuses those).
  constexpr std::string_view kReadOnly = ":ro";
  if (value->ends_with(kReadOnly) && value->size() > kReadOnly.size()) {
    const std::string chosen = value->substr(0, value->size() - kReadOnly.size());
    if (chosen == "true") return MountSelection{.read_only = true};
    if (chosen.starts_with('/') && chosen.find(':') == std::string::npos) {
      return MountSelection{.only = chosen, .read_only = true};
    }
  }
  if (*value == "false") {
    if (flags.Has(kDockerMountFlag.name)) {
      return CliError{
          "--docker-mount says where to mount the remote volumes and --mount=false "
          "says not to mount them; drop one of them" +
          SeeHelp(command)};
    }
    return MountSelection{.enabled = false};
  }
  if (!value->starts_with('/') || value->find(':') != std::string::npos) {
    return CliError{"invalid --mount '" + *value +
                    "': give true, false, or the absolute path of one of the workload's mounts "
                    "(telepresence list shows them), with :ro after true or the path to mount "
                    "read-only" +
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

}  // namespace

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

}  // namespace tp::cli
