// The `telepresence COMMAND --help` texts, one per command (replace, intercept, ingest and
// wiretap share one, with the mode's name and sentence in). Pure.
#pragma once

#include <string>
#include <string_view>

namespace tp::cli {

// The full help of `command`, ending with a newline. Precondition: `command` is one of the
// commands of command_line.cc's table (IsKnownCommand).
std::string CommandHelp(std::string_view command);

}  // namespace tp::cli
