// The telepresence command as a function: parses the arguments, dispatches to the command and
// turns every error into a sentence on `err` and an exit code (see services.h). Everything the
// process provides (streams, environment, Docker, time) comes in as arguments, so tests run it
// in-process with fakes.
#pragma once

#include <span>
#include <string>

#include "cli/services.h"

namespace tp::cli {

// Runs `telepresence ARGS...` (args without the program name) and returns the exit code.
int RunTelepresence(std::span<const std::string> args, const CliIo& io, CliServices& services);

}  // namespace tp::cli
