#include "cli/private_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "net/unique_fd.h"

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

Status WritePrivateText(const std::string& path, const std::string& text) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file.Valid() || ::fchmod(file.Get(), 0600) != 0) {
    return CliError{"cannot write the env file " + path + ": " + std::strerror(errno)};
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(file.Get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return CliError{"cannot write the env file " + path + ": " + std::strerror(errno)};
    written += static_cast<size_t>(n);
  }
  return Ok{};
}

}  // namespace tp::cli
