#include "cli/app.h"

#include <variant>

#include "cli/command_line.h"
#include "cli/docker_command.h"

namespace tp::cli {
namespace {

int Fail(const CliIo& io, std::string_view command, const CliError& error, int exit_code) {
  io.err << "telepresence " << command << ": " << error.message << "\n";
  return exit_code;
}

int NotImplemented(const CliIo& io, std::string_view command, std::string_view what_it_would_do) {
  io.out << "telepresence " << command << " would " << what_it_would_do << "\n";
  io.err << "telepresence " << command
         << ": not implemented yet: this build only checks the command and shows what it would "
            "do; it started, stopped and changed nothing\n";
  return kExitNotImplemented;
}

std::string ContextNameOrDefault(const std::optional<std::string>& context_name) {
  return context_name.value_or(std::string(kDefaultContextName));
}

Result<Context> LoadConnectContext(const ConnectCommand& connect, const CliIo& io) {
  Result<std::filesystem::path> directory = ContextsDirectory(io.environment);
  if (!directory.ok()) return directory.error();
  Result<Context> context =
      LoadContext(ContextNameOrDefault(connect.context_name), directory.value());
  if (!context.ok()) return context.error();
  return WithManagerOverride(std::move(context).value(), connect.manager_override);
}

int RunHelp(const HelpRequest& help, const CliIo& io) {
  io.out << HelpText(help.command);
  return kExitOk;
}

int RunConnect(const ConnectCommand& connect, const CliIo& io) {
  Result<Context> context = LoadConnectContext(connect, io);
  if (!context.ok()) return Fail(io, "connect", context.error(), kExitFailure);
  Result<Argv> argv = DaemonRunCommand({.context_name = context.value().name,
                                        .manager_address = context.value().manager,
                                        .secret_file = context.value().secret_file,
                                        .network = context.value().cluster_network});
  if (!argv.ok()) return Fail(io, "connect", argv.error(), kExitFailure);
  return NotImplemented(io, "connect", "run: " + FormatArgvForDisplay(argv.value()));
}

int RunStatus(const StatusCommand& status, const CliIo& io) {
  std::string container = DaemonContainerName(ContextNameOrDefault(status.context_name));
  return NotImplemented(io, "status",
                        "ask the daemon container " + container + ": GET /status on its " +
                            "control port (docker port " + container + " " +
                            std::to_string(kDaemonControlPort) + "/tcp)" +
                            (status.output == OutputFormat::kJson ? " and print it as JSON" : ""));
}

int RunQuit(const QuitCommand& quit, const CliIo& io) {
  std::string container = DaemonContainerName(ContextNameOrDefault(quit.context_name));
  return NotImplemented(io, "quit",
                        "ask the daemon container " + container + " to quit: POST /quit on its " +
                            "control port (docker port " + container + " " +
                            std::to_string(kDaemonControlPort) + "/tcp)");
}

int RunCurl(const CurlCommand& curl, const CliIo& io) {
  Result<Argv> argv = CurlRunCommand(ContextNameOrDefault(curl.context_name), curl.curl_args);
  if (!argv.ok()) return Fail(io, "curl", argv.error(), kExitUsage);
  return NotImplemented(io, "curl", "run: " + FormatArgvForDisplay(argv.value()));
}

}  // namespace

int RunTelepresence(std::span<const std::string> args, const CliIo& io) {
  Result<CommandLine> command_line = ParseCommandLine(args);
  if (!command_line.ok()) {
    io.err << "telepresence: " << command_line.error().message << "\n";
    return kExitUsage;
  }
  return std::visit(
      [&io](const auto& command) -> int {
        using T = std::decay_t<decltype(command)>;
        if constexpr (std::is_same_v<T, HelpRequest>) return RunHelp(command, io);
        if constexpr (std::is_same_v<T, ConnectCommand>) return RunConnect(command, io);
        if constexpr (std::is_same_v<T, StatusCommand>) return RunStatus(command, io);
        if constexpr (std::is_same_v<T, QuitCommand>) return RunQuit(command, io);
        if constexpr (std::is_same_v<T, CurlCommand>) return RunCurl(command, io);
      },
      command_line.value().command);
}

}  // namespace tp::cli
