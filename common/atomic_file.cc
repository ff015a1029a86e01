#include "common/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "net/unique_fd.h"

namespace tp {
namespace {

[[noreturn]] void ThrowErrno(const std::string& what) {
  throw std::runtime_error(what + ": " + std::strerror(errno));
}

void WriteAll(int fd, const std::string& data, const std::string& path) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) ThrowErrno("cannot write " + path);
    written += static_cast<size_t>(n);
  }
}

}  // namespace

void WriteFileAtomically(const std::string& path, const std::string& data) {
  const std::string temporary = path + ".tmp";
  {
    UniqueFd fd(::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!fd.Valid()) ThrowErrno("cannot create " + temporary);
    WriteAll(fd.Get(), data, temporary);
    if (::fsync(fd.Get()) != 0) ThrowErrno("cannot sync " + temporary);
  }
  if (::rename(temporary.c_str(), path.c_str()) != 0) ThrowErrno("cannot rename " + temporary);
  const std::string folder = std::filesystem::path(path).parent_path().string();
  UniqueFd folder_fd(
      ::open(folder.empty() ? "." : folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (folder_fd.Valid()) ::fsync(folder_fd.Get());
}

std::optional<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream input(path);
  if (!input) return std::nullopt;
  std::stringstream text;
  text << input.rdbuf();
  return text.str();
}

}  // namespace tp
