#include "common/unix_http_server.h"

#include <unistd.h>

#include "common/unix_listener.h"
#include "net/unique_fd.h"

namespace tp {

UnixHttpServer::~UnixHttpServer() {
  if (!served_ && svr_sock_ != INVALID_SOCKET) ::close(svr_sock_);
}

bool UnixHttpServer::Serve() {
  served_ = true;
  return listen_after_bind();
}

bool UnixHttpServer::ListenUnix(const std::string& path, mode_t mode, std::string& error) {
  UniqueFd socket = tp::ListenUnix(path, mode, error);
  if (!socket.Valid()) return false;
  svr_sock_ = socket.Release();  // httplib closes it in stop()
  return true;
}

}  // namespace tp
