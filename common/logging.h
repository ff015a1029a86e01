// Process-wide logging setup: spdlog to stderr, debug level when the DEBUG environment variable
// is set to anything but "", "0" or "false".
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace tp {

// Configures the default spdlog logger. Call once from main before starting threads.
void InitLogging(std::string_view program_name);

// True when the DEBUG environment variable asks for debug logs.
bool DebugRequested();

}  // namespace tp
