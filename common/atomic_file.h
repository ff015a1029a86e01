// Whole-file state I/O for the plugins' small state files. WriteFileAtomically replaces a file
// so that a crash leaves either the old or the new content, never a mix; ReadWholeFile reads one
// back. Both are stateless free functions, safe from any thread (callers serialize writers of
// the same path: concurrent writers share one temporary file name).
#pragma once

#include <optional>
#include <string>

namespace tp {

// Writes `data` to `path` via a synced temporary file `path`.tmp (mode 0600) and rename(2), then
// syncs the containing folder. Throws std::runtime_error naming the failed step and errno.
void WriteFileAtomically(const std::string& path, const std::string& data);

// The whole content of `path`, or nullopt when it does not exist or cannot be read.
std::optional<std::string> ReadWholeFile(const std::string& path);

}  // namespace tp
