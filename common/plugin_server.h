// PluginServer serves one Docker plugin API (HTTP/1.1 + JSON) on a Unix socket. It owns the
// socket file, the content type, Plugin.Activate and the {"Err": ...} error shape; drivers only
// register one handler per method from a table. Handlers run on server threads concurrently.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace tp {

class UnixHttpServer;

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

  void AddRoutes(const std::vector<PluginRoute>& routes);

  // Binds the socket (replacing a stale socket file, creating its folder) and serves on a
  // background thread. Throws std::runtime_error when the socket cannot be bound.
  void Start();
  void Stop();

  const std::string& socket_path() const { return socket_path_; }

 private:
  std::string socket_path_;
  std::vector<std::string> implements_;
  std::unique_ptr<UnixHttpServer> http_;
  std::thread serve_thread_;
};

// Request field accessors that turn a missing or mistyped field into a PluginError naming it.
std::string RequireString(const nlohmann::json& request, const char* field);
std::string OptionalString(const nlohmann::json& request, const char* field);

// The reply body for an error, {"Err": message}.
nlohmann::json ErrorReply(const std::string& message);

// What PluginServer answers to one call of a route: the HTTP status and the body's JSON text.
struct PluginAnswer {
  int status = 200;
  std::string body;  // newline-terminated JSON; {"Err": sentence} unless status is 200
};

// One call of `route` without the HTTP around it, as PluginServer serves every route: `body`
// (empty, or the text of a JSON object or null) goes to the handler as an object; text that is
// not a JSON object answers 400, a handler that throws answers 500, both {"Err": sentence};
// otherwise 200 and the handler's reply. Never throws. For tests and fuzzing.
PluginAnswer AnswerPluginCall(const PluginRoute& route, const std::string& body);

}  // namespace tp
