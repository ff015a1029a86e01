// The telepresence command as a function: parses the arguments, dispatches to the command and
// turns every error into a sentence on `err` and an exit code. Everything the process provides
// (streams, environment) comes in through CliIo, so tests run it in-process.
//
// State of this build: --help, `help` and argument errors are real. connect/status/quit/curl load
// and check what they need (the context, the names) and print the docker command or the daemon
// request they would make, then exit with kExitNotImplemented: they start and stop nothing yet.
#pragma once

#include <ostream>
#include <span>
#include <string>

#include "cli/context.h"

namespace tp::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;         // the command could not do its job
inline constexpr int kExitUsage = 2;           // bad arguments; the message says what to do
inline constexpr int kExitNotImplemented = 3;  // the command is parsed but not implemented yet

struct CliIo {
  std::ostream& out;
  std::ostream& err;
  EnvironmentLookup environment;
};

// Runs `telepresence ARGS...` (args without the program name) and returns the exit code.
int RunTelepresence(std::span<const std::string> args, const CliIo& io);

}  // namespace tp::cli
