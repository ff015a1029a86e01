#include "cli/private_file.h"

#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <system_error>

namespace tp::cli {

Result<std::unique_ptr<PrivateFile>> PrivateFile::Create(const std::string& name,
                                                         const std::string& text,
                                                         const EnvironmentLookup& environment) {
  const std::string directory = environment("TMPDIR").value_or("/tmp");
  std::string pattern = directory + "/" + name + ".XXXXXX";
  const int fd = mkstemp(pattern.data());  // mode 0600
  if (fd < 0) {
    return CliError{"cannot create a temporary file in " + directory + ": " +
                    std::error_code(errno, std::generic_category()).message()};
  }
  auto file = std::unique_ptr<PrivateFile>(new PrivateFile(pattern));
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  close(fd);
  if (!written) return CliError{"cannot write the temporary file " + pattern};
  return file;
}

PrivateFile::~PrivateFile() {
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
}

}  // namespace tp::cli
