// The parsers of `telepresence replace|intercept|ingest|wiretap` (command_line.h states their
// rules; command_line.cc's table calls them). Pure.
#pragma once

#include <span>
#include <string>

#include "cli/command_line.h"

namespace tp::cli {

Result<Command> ParseReplace(std::span<const std::string> args, GlobalFlags& global);
Result<Command> ParseIntercept(std::span<const std::string> args, GlobalFlags& global);
Result<Command> ParseIngest(std::span<const std::string> args, GlobalFlags& global);
Result<Command> ParseWiretap(std::span<const std::string> args, GlobalFlags& global);

}  // namespace tp::cli
