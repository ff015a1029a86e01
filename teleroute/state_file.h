// Atomic replacement of a small state file: a crash leaves either the old or the new content.
#pragma once

#include <optional>
#include <string>

namespace tp::teleroute {

// Writes `data` to `path` via a synced temporary file and rename(2). Throws std::runtime_error.
void WriteFileAtomically(const std::string& path, const std::string& data);

// The whole content of `path`, or nullopt when it does not exist or cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace tp::teleroute
