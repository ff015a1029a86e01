#include "common/unix_listener.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace tp {
namespace {

constexpr int kListenBacklog = 64;

}  // namespace

UniqueFd ListenUnix(const std::string& path, mode_t mode, std::string& error) {
  sockaddr_un address{};
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    error = "socket path too long: " + path;
    return {};
  }
  ::unlink(path.c_str());
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return {};
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  if (::bind(socket.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(socket.Get(), kListenBacklog) != 0) {
    error = "cannot listen on " + path + ": " + std::strerror(errno);
    return {};
  }
  if (::chmod(path.c_str(), mode) != 0) {
    error = "cannot set the mode of " + path + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return {};
  }
  return socket;
}

}  // namespace tp
