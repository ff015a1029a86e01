// The project's version (the repository's VERSION file, read by CMake at configure time): what
// `telepresence version` prints and what the managed plugins must carry (plugins.h).
#pragma once

#include <string_view>

namespace tp::cli {

std::string_view TelepresenceVersion();

}  // namespace tp::cli
