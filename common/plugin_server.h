// PluginServer serves one Docker plugin API (HTTP/1.1 + JSON) on a Unix socket. It owns the
// socket file, the content type, Plugin.Activate and the {"Err": ...} error shape; drivers only
// register one handler per method from a table. Handlers run on connection threads concurrently.
//
// The HTTP is its own small loop (net/http_head.h) rather than cpp-httplib's, whose Debian build
// brings OpenSSL, zlib and brotli into every process that links it: 4 MiB of a plugin's 10 MiB
// resident. It speaks what dockerd's plugin client sends: POST with a Content-Length body,
// keep-alive. Every peer-driven resource is capped: kMaxPluginConnections connections at once
// (more are closed at once), heads of net's kMaxHttpHeadBytes, bodies of kMaxPluginBodyBytes
// (413), kPluginRequestTimeout for a request to arrive whole and for an idle connection. A
// malformed head gets 400, a chunked body 501, another method than POST 405, each with {"Err"}.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "net/unique_fd.h"
#include "sync/mutex.h"

namespace tp {

// What PluginServer answers to one call of a route: the HTTP status and the body's JSON text.
struct PluginAnswer {
  int status = 200;
  std::string body;  // newline-terminated JSON; {"Err": sentence} unless status is 200
};

inline constexpr size_t kMaxPluginConnections = 64;
inline constexpr size_t kMaxPluginBodyBytes = 1 << 20;
inline constexpr std::chrono::seconds kPluginRequestTimeout{30};

// Thrown by a handler to answer {"Err": what()} to dockerd. Any other exception thrown while
// handling a request (a JSON type error, say) is answered the same way.
class PluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Receives the decoded request body (an object; {} for an empty body) and returns the reply.
using PluginHandler = std::function<nlohmann::json(const nlohmann::json& request)>;

struct PluginRoute {
  std::string method;  // e.g. "VolumeDriver.Create", served at POST /VolumeDriver.Create
  PluginHandler handler;
};

class PluginServer {
 public:
  // `implements` is what Plugin.Activate answers, e.g. {"VolumeDriver"}.
  PluginServer(std::string socket_path, std::vector<std::string> implements);
  ~PluginServer();  // Stops serving and removes the socket file.
  PluginServer(const PluginServer&) = delete;
  PluginServer& operator=(const PluginServer&) = delete;

  // Before Start only.
  void AddRoutes(const std::vector<PluginRoute>& routes);

  // Binds the socket (replacing a stale socket file, creating its folder; mode 0660) and serves
  // on a background thread. Throws std::runtime_error when the socket cannot be bound.
  void Start();
  // Stops accepting, ends every connection (a handler that runs is waited for) and removes the
  // socket file. Idempotent.
  void Stop();

  const std::string& socket_path() const { return socket_path_; }

 private:
  void AcceptLoop();
  void Serve(UniqueFd connection);
  // The answer to one request whose head and body arrived.
  PluginAnswer Dispatch(const std::string& method, const std::string& target,
                        const std::string& body) const;

  std::string socket_path_;
  std::vector<std::string> implements_;
  std::map<std::string, PluginRoute> routes_;  // by target, "/VolumeDriver.Mount"; set before Start
  UniqueFd listener_;
  UniqueFd stop_event_;  // an eventfd, readable once Stop began: wakes every poll
  std::thread accept_thread_;

  Mutex connections_mutex_;
  CondVar connections_done_;  // with connections_mutex_: connections_ fell to 0
  size_t connections_ GUARDED_BY(connections_mutex_) = 0;
};

// Request field accessors that turn a missing or mistyped field into a PluginError naming it.
std::string RequireString(const nlohmann::json& request, const char* field);
std::string OptionalString(const nlohmann::json& request, const char* field);

// The reply body for an error, {"Err": message}.
nlohmann::json ErrorReply(const std::string& message);

// One call of `route` without the HTTP around it, as PluginServer serves every route: `body`
// (empty, or the text of a JSON object or null) goes to the handler as an object; text that is
// not a JSON object answers 400, a handler that throws answers 500, both {"Err": sentence};
// otherwise 200 and the handler's reply. Never throws. For tests and fuzzing.
PluginAnswer AnswerPluginCall(const PluginRoute& route, const std::string& body);

}  // namespace tp
