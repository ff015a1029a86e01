#include "daemon/control_api.h"

#include <httplib.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string_view>

#include "common/secret.h"
#include "common/unix_http_server.h"
#include "daemon/connection_gate.h"

namespace tp::daemon {
namespace {

constexpr char kJsonType[] = "application/json";
// A request held open by a client must not delay Stop() long.
constexpr time_t kKeepAliveSeconds = 1;
constexpr std::chrono::seconds kStartTimeout{2};
constexpr size_t kMaxBodyBytes = 1024 * 1024;
constexpr std::string_view kIdSegment = "{id}";
// More workers than connections the gate lets in (and a few for connections the gate has closed
// while their worker finishes): no set of open connections can hold every worker.
constexpr size_t kHttpWorkers = kControlConnections + 4;

struct Reply {
  int status = 200;
  nlohmann::json body;
  bool quit_after = false;  // call the quit callback once the reply is ready
};

// What a route's handler gets: the callbacks, the body (a JSON object for routes that take one,
// else null) and the {id} segment of the path ("" when the route has none).
struct RouteRequest {
  const ControlCallbacks& callbacks;
  const nlohmann::json& body;
  const std::string& id;
};

struct Route {
  std::string_view method;
  std::string_view path;  // a segment "{id}" matches any one non-empty segment
  bool takes_body;
  std::function<Reply(const RouteRequest&)> handle;
  // Every route needs the token but GET /status, which the Teleroute plugin polls and which
  // holds no secret: workloads and engagements (their environments) are for the token's holder.
  bool needs_token() const { return !(method == "GET" && path == "/status"); }
};

Reply Error(int status, const std::string& sentence) { return {status, {{"error", sentence}}}; }

// The reply of an engagement callback, or 503 when the daemon has none.
template <typename Callback, typename... Args>
Reply Forward(const Callback& callback, const Args&... args) {
  if (!callback) return Error(503, "this daemon does not serve engagements");
  ControlReply reply = callback(args...);
  return {reply.status, std::move(reply.body)};
}

Reply GetStatus(const RouteRequest& request) {
  return {200, api::DaemonStatusToJson(request.callbacks.status())};
}

Reply PostQuit(const RouteRequest&) { return {200, {{"stopping", true}}, true}; }

Reply GetWorkloads(const RouteRequest& request) { return Forward(request.callbacks.workloads); }

Reply PostEngagement(const RouteRequest& request) {
  return Forward(request.callbacks.engage, request.body);
}

Reply PostHandler(const RouteRequest& request) {
  return Forward(request.callbacks.set_handler, request.id, request.body);
}

Reply GetEngagements(const RouteRequest& request) { return Forward(request.callbacks.engagements); }

Reply DeleteEngagement(const RouteRequest& request) {
  return Forward(request.callbacks.leave, request.id);
}

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/status", false, GetStatus},
      {"POST", "/quit", false, PostQuit},
      {"GET", "/workloads", false, GetWorkloads},
      {"POST", "/engagements", true, PostEngagement},
      {"GET", "/engagements", false, GetEngagements},
      {"POST", "/engagements/{id}/handler", true, PostHandler},
      {"DELETE", "/engagements/{id}", false, DeleteEngagement},
  };
  return routes;
}

// Whether `path` matches `pattern`; `id` gets the segment matched by {id}.
bool MatchPath(std::string_view pattern, std::string_view path, std::string& id) {
  while (!pattern.empty() && !path.empty()) {
    const size_t pattern_end = std::min(pattern.find('/', 1), pattern.size());
    const size_t path_end = std::min(path.find('/', 1), path.size());
    const std::string_view pattern_segment = pattern.substr(0, pattern_end);
    const std::string_view path_segment = path.substr(0, path_end);
    if (pattern_segment == "/" + std::string(kIdSegment)) {
      if (path_segment.size() < 2) return false;
      id = path_segment.substr(1);
    } else if (pattern_segment != path_segment) {
      return false;
    }
    pattern.remove_prefix(pattern_end);
    path.remove_prefix(path_end);
  }
  return pattern.empty() && path.empty();
}

// The request's body as a JSON object; nullopt with a sentence in `error` when it is not one.
std::optional<nlohmann::json> ParseBody(const std::string& text, std::string& error) {
  nlohmann::json body = nlohmann::json::parse(text, nullptr, false);
  if (body.is_discarded()) {
    error = text.empty() ? "the request needs a JSON object as its body"
                         : "the request body is not valid JSON";
    return std::nullopt;
  }
  if (!body.is_object()) {
    error = "the request body must be a JSON object";
    return std::nullopt;
  }
  return body;
}

// Whether the Authorization header's value ("" when absent) carries `token`; any value does when
// there is no token.
bool Authorized(std::string_view authorization, const std::string& token) {
  if (token.empty()) return true;
  constexpr std::string_view kBearer = "Bearer ";
  if (!authorization.starts_with(kBearer)) return false;
  return SameSecret(authorization.substr(kBearer.size()), token);
}

Reply Dispatch(const ControlCallbacks& callbacks, const std::string& token,
               std::string_view authorization, std::string_view method, std::string_view path,
               const std::string& body_text) {
  bool path_known = false;
  for (const Route& route : Routes()) {
    std::string id;
    if (!MatchPath(route.path, path, id)) continue;
    path_known = true;
    if (route.method != method) continue;
    if (route.needs_token() && !Authorized(authorization, token)) {
      return Error(401, std::string(method) + " " + std::string(path) +
                            " needs the daemon's control token; use the telepresence command, "
                            "which sends it");
    }
    nlohmann::json body;
    if (route.takes_body) {
      std::string error;
      std::optional<nlohmann::json> parsed = ParseBody(body_text, error);
      if (!parsed) return Error(400, error);
      body = std::move(*parsed);
    }
    return route.handle({callbacks, body, id});
  }
  if (path_known) {
    return Error(405, std::string(method) + " is not allowed on " + std::string(path));
  }
  return Error(404, "no such endpoint: " + std::string(path));
}

}  // namespace

// A folder only the daemon's user can enter (mkdtemp: 0700), for the HTTP server's Unix socket;
// removed with what it holds when destroyed.
class ControlApi::PrivateFolder {
 public:
  static std::unique_ptr<PrivateFolder> Make(std::string& error) {
    std::error_code ignored;
    std::string pattern =
        (std::filesystem::temp_directory_path(ignored) / "tp-control-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      error = "cannot make a folder for the control API's socket (" + pattern +
              "): " + std::strerror(errno);
      return nullptr;
    }
    return std::unique_ptr<PrivateFolder>(new PrivateFolder(pattern));
  }
  ~PrivateFolder() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  PrivateFolder(const PrivateFolder&) = delete;
  PrivateFolder& operator=(const PrivateFolder&) = delete;

  std::string SocketPath() const { return (path_ / "http.sock").string(); }

 private:
  explicit PrivateFolder(std::filesystem::path path) : path_(std::move(path)) {}
  const std::filesystem::path path_;
};

std::unique_ptr<ControlApi> ControlApi::Start(const std::string& host, uint16_t port,
                                              const std::string& token, ControlCallbacks callbacks,
                                              std::string& error) {
  std::unique_ptr<PrivateFolder> folder = PrivateFolder::Make(error);
  if (!folder) return nullptr;
  auto server = std::make_unique<UnixHttpServer>();
  server->new_task_queue = [] { return new httplib::ThreadPool(kHttpWorkers); };
  server->set_keep_alive_timeout(kKeepAliveSeconds);
  server->set_payload_max_length(kMaxBodyBytes);
  const std::string socket_path = folder->SocketPath();
  if (!server->ListenUnix(socket_path, 0600, error)) {
    error = "cannot serve the control API: " + error;
    return nullptr;
  }
  std::unique_ptr<ControlApi> api(
      new ControlApi(token, std::move(callbacks), std::move(folder), std::move(server)));
  std::string gate_error;
  api->gate_ = ConnectionGate::Start(
      host, port, socket_path,
      {"control API", kControlConnections, kControlDeadline, kControlConnectionsPerPeer},
      gate_error);
  if (!api->gate_) {
    error = "cannot listen on " + host + ":" + std::to_string(port) +
            " for the control API: " + gate_error;
    return nullptr;
  }
  return api;
}

ControlApi::ControlApi(std::string token, ControlCallbacks callbacks,
                       std::unique_ptr<PrivateFolder> folder,
                       std::unique_ptr<UnixHttpServer> server)
    : token_(std::move(token)),
      callbacks_(std::move(callbacks)),
      folder_(std::move(folder)),
      server_(std::move(server)) {
  Route();
  thread_ = std::thread([this] { server_->Serve(); });
  // stop() before the server runs would be lost; wait (bounded) until it runs.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

void ControlApi::Route() {
  const auto handle_body = [this](const httplib::Request& request, httplib::Response& response,
                                  const std::string& body) {
    const std::string authorization = request.get_header_value("Authorization");
    const Reply reply =
        Dispatch(callbacks_, token_, authorization, request.method, request.path, body);
    response.status = reply.status;
    response.set_content(reply.body.dump(), kJsonType);
    if (reply.quit_after && callbacks_.quit) callbacks_.quit();
  };
  const auto handle = [handle_body](const httplib::Request& request, httplib::Response& response) {
    handle_body(request, response, "");
  };
  // Handlers with a content reader make httplib skip reading the body before dispatch: a POST
  // without Content-Length (curl -X POST) would otherwise wait for the peer to close and end in
  // 400. A body that was announced is read (and ignored by routes that take none).
  const auto handle_with_body = [handle_body](const httplib::Request& request,
                                              httplib::Response& response,
                                              const httplib::ContentReader& read_body) {
    std::string body;
    if (request.has_header("Content-Length")) {
      read_body([&body](const char* data, size_t length) {
        body.append(data, length);
        return true;
      });
    }
    handle_body(request, response, body);
  };
  server_->Get(".*", handle);
  server_->Post(".*", handle_with_body);
  server_->Put(".*", handle_with_body);
  server_->Delete(".*", handle_with_body);
}

ControlApi::~ControlApi() { Stop(); }

uint16_t ControlApi::Port() const { return gate_->Port(); }

void ControlApi::Stop() {
  // No new connection or request; then httplib's stop() lets each worker write the answer it is
  // working on (POST /quit's among them) and close, which ends each relay. A worker that waits
  // on a client's unfinished request is released by the gate's drain time (its relay closes).
  if (gate_) gate_->BeginStop();
  server_->stop();
  if (gate_) gate_->Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tp::daemon
