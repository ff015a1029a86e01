#include "cli/app.h"

#include <variant>

#include "cli/command_line.h"
#include "cli/commands.h"

namespace tp::cli {

int RunTelepresence(std::span<const std::string> args, const CliIo& io, CliServices& services) {
  Result<CommandLine> command_line = ParseCommandLine(args);
  if (!command_line.ok()) {
    io.err << "telepresence: " << command_line.error().message << "\n";
    return kExitUsage;
  }
  return std::visit(
      [&io, &services](const auto& command) -> int {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, HelpRequest>) {
          io.out << HelpText(command.command);
          return kExitOk;
        }
        if constexpr (std::is_same_v<T, ConnectCommand>) return RunConnect(command, io, services);
        if constexpr (std::is_same_v<T, StatusCommand>) return RunStatus(command, io, services);
        if constexpr (std::is_same_v<T, QuitCommand>) return RunQuit(command, io, services);
        if constexpr (std::is_same_v<T, CurlCommand>) return RunCurl(command, io, services);
        if constexpr (std::is_same_v<T, DockerRunCommand>) {
          return RunDockerRun(command, io, services);
        }
        if constexpr (std::is_same_v<T, EngageCommand>) return RunEngage(command, io, services);
        if constexpr (std::is_same_v<T, ListCommand>) return RunList(command, io, services);
        if constexpr (std::is_same_v<T, LeaveCommand>) return RunLeave(command, io, services);
        if constexpr (std::is_same_v<T, UiCommand>) return RunUi(command, io, services);
        if constexpr (std::is_same_v<T, ContextsCommand>) return RunContexts(command, io);
        if constexpr (std::is_same_v<T, PluginsCommand>) return RunPlugins(command, io, services);
        if constexpr (std::is_same_v<T, VersionCommand>) return RunVersion(io);
        if constexpr (std::is_same_v<T, ComposeCommand>) return RunCompose(command, io, services);
      },
      command_line.value().command);
}

}  // namespace tp::cli
