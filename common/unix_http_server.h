// UnixHttpServer is a cpp-httplib server that listens on a Unix socket. httplib 0.11.4 can only
// bind TCP itself, but its listening socket member is protected: ListenUnix binds and listens an
// AF_UNIX socket (common/unix_listener.h) and hands it over, and Serve() then runs httplib's own
// accept loop on it. Used by the daemon's control API behind its ConnectionGate.
// Routes, timeouts and stop() are httplib's; the owner removes the socket file when done.
#pragma once

#include <httplib.h>
#include <sys/types.h>

#include <atomic>
#include <string>

namespace tp {

class UnixHttpServer : public httplib::Server {
 public:
  UnixHttpServer() = default;
  // Closes the socket of ListenUnix when Serve() never ran (httplib's stop() closes it otherwise).
  ~UnixHttpServer() override;
  UnixHttpServer(const UnixHttpServer&) = delete;
  UnixHttpServer& operator=(const UnixHttpServer&) = delete;

  // tp::ListenUnix for this server (see common/unix_listener.h). False with `error` set when the
  // socket cannot be bound.
  bool ListenUnix(const std::string& path, mode_t mode, std::string& error);

  // Runs the accept loop on the socket of ListenUnix until stop(); false when there was none.
  bool Serve();

 private:
  std::atomic<bool> served_{false};
};

}  // namespace tp
