// The parser of `telepresence compose` (command_line.h states its rules; command_line.cc's table
// calls it). Pure.
#pragma once

#include <span>
#include <string>

#include "cli/command_line.h"

namespace tp::cli {

Result<Command> ParseCompose(std::span<const std::string> args, GlobalFlags& global);

}  // namespace tp::cli
