#include "common/unix_http_server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/unique_fd.h"

namespace tp {
namespace {

constexpr int kListenBacklog = 64;

}  // namespace

UnixHttpServer::~UnixHttpServer() {
  if (!served_ && svr_sock_ != INVALID_SOCKET) ::close(svr_sock_);
}

bool UnixHttpServer::Serve() {
  served_ = true;
  return listen_after_bind();
}

bool UnixHttpServer::ListenUnix(const std::string& path, mode_t mode, std::string& error) {
  sockaddr_un address{};
  if (path.empty() || path.size() >= sizeof(address.sun_path)) {
    error = "socket path too long: " + path;
    return false;
  }
  ::unlink(path.c_str());
  UniqueFd socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!socket.Valid()) {
    error = std::string("socket: ") + std::strerror(errno);
    return false;
  }
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size());
  if (::bind(socket.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(socket.Get(), kListenBacklog) != 0) {
    error = "cannot listen on " + path + ": " + std::strerror(errno);
    return false;
  }
  if (::chmod(path.c_str(), mode) != 0) {
    error = "cannot set the mode of " + path + ": " + std::strerror(errno);
    ::unlink(path.c_str());
    return false;
  }
  svr_sock_ = socket.Release();  // httplib closes it in stop()
  return true;
}

}  // namespace tp
