#include "cli/compose_command_line.h"

#include "cli/command_flags.h"

namespace tp::cli {
namespace {

constexpr std::string_view kCommand = "compose";
constexpr FlagSpec kComposeFileFlag{"--file", "-f", "FILE", true};
constexpr FlagSpec kProjectNameFlag{"--project-name", "-p", "NAME"};

}  // namespace

Result<Command> ParseCompose(std::span<const std::string> args, GlobalFlags& global) {
  auto flags = ParseFlags(kCommand, args, WithCommonFlags({kComposeFileFlag, kProjectNameFlag}),
                          UnknownWords::kPassThrough);
  if (!flags.ok()) return flags.error();
  if (flags.value().Has(kHelpFlag.name)) return HelpRequest{std::string(kCommand)};
  auto context_name = ContextFlag(kCommand, flags.value());
  if (!context_name.ok()) return context_name.error();
  if (flags.value().rest.empty()) {
    return CliError{"compose needs a docker-compose command, e.g. telepresence compose up -d" +
                    SeeHelp(kCommand)};
  }
  global.docker = global.docker || flags.value().Has(kDockerFlag.name);
  return ComposeCommand{.context_name = context_name.value(),
                        .files = flags.value().All(kComposeFileFlag.name),
                        .project_name = flags.value().Get(kProjectNameFlag.name),
                        .compose_args = flags.value().rest};
}

}  // namespace tp::cli
