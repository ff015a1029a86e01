// The commands that act on Docker and the daemon. Each returns the exit code (services.h) and
// writes its result to io.out, its progress and errors to io.err (errors as one line
// "telepresence COMMAND: SENTENCE"). Output formats: connect_wait.h (connect) and
// daemon_status.h (status).
#pragma once

#include "cli/command_line.h"
#include "cli/daemon_status.h"
#include "cli/services.h"

namespace tp::cli {

// connect.cc
int RunConnect(const ConnectCommand& command, const CliIo& io, CliServices& services);

// daemon_commands.cc
int RunStatus(const StatusCommand& command, const CliIo& io, CliServices& services);
int RunQuit(const QuitCommand& command, const CliIo& io, CliServices& services);
int RunCurl(const CurlCommand& command, const CliIo& io, CliServices& services);

// docker_run.cc
int RunDockerRun(const DockerRunCommand& command, const CliIo& io, CliServices& services);
// The daemon's address on the context's Teleroute network tp-<ctx>. Error (saying to connect):
// no daemon runs, no network, the daemon is not on it.
Result<std::string> DaemonAddressOnNetwork(const std::string& context_name, DockerApi& docker);
// `telepresence docker-run`'s docker run argv for the context's network and DNS, the user's
// words after ours. Error (saying to connect): as DaemonAddressOnNetwork, or no daemon answer.
Result<Argv> DockerRunOnNetworkArgv(const std::string& context_name,
                                    const std::vector<std::string>& docker_args,
                                    CliServices& services);

// engage.cc: replace, intercept, ingest, wiretap (docs/engagements.md, "The CLI"); list; leave.
int RunEngage(const EngageCommand& command, const CliIo& io, CliServices& services);
int RunList(const ListCommand& command, const CliIo& io, CliServices& services);
int RunLeave(const LeaveCommand& command, const CliIo& io, CliServices& services);

// compose.cc: docker-compose with the x-tele extension (compose_spec.h, compose_override.h).
int RunCompose(const ComposeCommand& command, const CliIo& io, CliServices& services);
// Takes down every compose project that `compose up` left up on the context (as compose down
// would: the engagements, docker-compose down, the volumes and files); quit calls it first.
// False when a problem came up (said on io.err).
bool TakeDownComposeProjects(const std::string& context_name, const CliIo& io,
                             CliServices& services);

// contexts_command.cc: the context files, as a table or JSON.
int RunContexts(const ContextsCommand& command, const CliIo& io);

// plugins_command.cc: the managed plugins' status and installation (plugins.h); the version.
int RunPlugins(const PluginsCommand& command, const CliIo& io, CliServices& services);
int RunVersion(const CliIo& io);
// Where plugins come from: the --plugin-registry flag, else the settings file (cli_config.h).
// Error: a settings file that cannot be read.
Result<PluginPolicy> PluginPolicyFor(const std::optional<std::string>& registry_flag, bool upgrade,
                                     const EnvironmentLookup& environment);

// ui_command.cc: the page's server (docs/ui.md) until Ctrl-C.
int RunUi(const UiCommand& command, const CliIo& io, CliServices& services);

// The name of the context a command acts on: the one given with --context, else "default".
std::string ContextNameOrDefault(const std::optional<std::string>& context_name);

// GET /status, parsed.
Result<DaemonStatus> FetchDaemonStatus(DaemonControl& control);

// Writes "telepresence COMMAND: MESSAGE" to io.err and returns exit_code.
int Fail(const CliIo& io, std::string_view command, std::string_view message,
         int exit_code = kExitFailure);
// Whether `line` is such an error line, and its MESSAGE (the line itself when it is not one).
bool IsFailLine(std::string_view line);
std::string FailSentence(std::string_view line);

}  // namespace tp::cli
