// PrivateFile: a temporary file that only this user can read (mode 0600, in $TMPDIR or /tmp),
// holding a text given at creation, removed when the object goes. For what docker reads from a
// file and nobody else should: the remote environment, the daemon's control token.
#pragma once

#include <memory>
#include <string>

#include "cli/context.h"
#include "cli/result.h"

namespace tp::cli {

class PrivateFile {
 public:
  // `name` is the start of the file's name ("telepresence-env").
  static Result<std::unique_ptr<PrivateFile>> Create(const std::string& name,
                                                     const std::string& text,
                                                     const EnvironmentLookup& environment);
  ~PrivateFile();
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;

  const std::string& path() const { return path_; }

 private:
  explicit PrivateFile(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

// Writes `text` to `path`, created or truncated, readable by this user only (0600, also when it
// existed before with wider permissions; a symbolic link there is refused): for the workload's
// environment, which holds its secrets.
Status WritePrivateText(const std::string& path, const std::string& text);

}  // namespace tp::cli
