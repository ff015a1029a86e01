#include "daemon/control_api.h"

#include <httplib.h>

#include <chrono>
#include <string_view>

namespace tp::daemon {
namespace {

constexpr char kJsonType[] = "application/json";
// A request held open by a client must not delay Stop() long.
constexpr time_t kKeepAliveSeconds = 1;
constexpr std::chrono::seconds kStartTimeout{2};

struct Reply {
  int status = 200;
  nlohmann::json body;
  bool quit_after = false;  // call the quit callback once the reply is ready
};

struct Route {
  std::string_view method;
  std::string_view path;
  std::function<Reply(const ControlCallbacks&)> handle;
};

Reply GetStatus(const ControlCallbacks& callbacks) {
  return {200, StatusToJson(callbacks.status())};
}

Reply PostQuit(const ControlCallbacks&) { return {200, {{"stopping", true}}, true}; }

const std::vector<Route>& Routes() {
  static const std::vector<Route> routes = {
      {"GET", "/status", GetStatus},
      {"POST", "/quit", PostQuit},
  };
  return routes;
}

Reply Dispatch(const ControlCallbacks& callbacks, std::string_view method, std::string_view path) {
  bool path_known = false;
  for (const Route& route : Routes()) {
    if (route.path != path) continue;
    path_known = true;
    if (route.method == method) return route.handle(callbacks);
  }
  if (path_known) {
    return {405, {{"error", std::string(method) + " is not allowed on " + std::string(path)}}};
  }
  return {404, {{"error", "no such endpoint: " + std::string(path)}}};
}

}  // namespace

nlohmann::json StatusToJson(const DaemonStatus& status) {
  return {
      {"connected", status.connected},
      {"manager", status.manager},
      {"subnets", status.subnets},
      {"dns", {{"address", status.dns_address}, {"search", status.dns_search}}},
      {"error", status.error},
      {"reconnects", status.reconnects},
      {"capture",
       {{"enabled", status.capture.enabled},
        {"active", status.capture.active},
        {"port", status.capture.port},
        {"subnets", status.capture.subnets},
        {"error", status.capture.error}}},
  };
}

std::unique_ptr<ControlApi> ControlApi::Start(const std::string& host, uint16_t port,
                                              ControlCallbacks callbacks, std::string& error) {
  auto server = std::make_unique<httplib::Server>();
  // httplib's default adds SO_REUSEPORT, which would let a second daemon share the port.
  server->set_socket_options([](socket_t socket) {
    const int yes = 1;
    ::setsockopt(socket, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  server->set_keep_alive_timeout(kKeepAliveSeconds);
  int bound_port = port;
  if (port == 0) {
    bound_port = server->bind_to_any_port(host);
  } else if (!server->bind_to_port(host, port)) {
    bound_port = -1;
  }
  if (bound_port <= 0) {
    error = "cannot listen on " + host + ":" + std::to_string(port) + " for the control API";
    return nullptr;
  }
  return std::unique_ptr<ControlApi>(
      new ControlApi(std::move(callbacks), std::move(server), static_cast<uint16_t>(bound_port)));
}

ControlApi::ControlApi(ControlCallbacks callbacks, std::unique_ptr<httplib::Server> server,
                       uint16_t port)
    : callbacks_(std::move(callbacks)), server_(std::move(server)), port_(port) {
  const auto handle = [this](const httplib::Request& request, httplib::Response& response) {
    const Reply reply = Dispatch(callbacks_, request.method, request.path);
    response.status = reply.status;
    response.set_content(reply.body.dump(), kJsonType);
    if (reply.quit_after && callbacks_.quit) callbacks_.quit();
  };
  // No endpoint takes a body. Handlers with a content reader make httplib skip reading it
  // before dispatch: a POST without Content-Length (curl -X POST) would otherwise wait for the
  // peer to close and end in 400. A body that was announced is drained, for keep-alive.
  const auto handle_ignoring_body = [handle](const httplib::Request& request,
                                             httplib::Response& response,
                                             const httplib::ContentReader& read_body) {
    if (request.has_header("Content-Length")) {
      read_body([](const char*, size_t) { return true; });
    }
    handle(request, response);
  };
  server_->Get(".*", handle);
  server_->Post(".*", handle_ignoring_body);
  server_->Put(".*", handle_ignoring_body);
  server_->Delete(".*", handle_ignoring_body);
  thread_ = std::thread([this] { server_->listen_after_bind(); });
  // stop() before the server runs would be lost; wait (bounded) until it runs.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  while (!server_->is_running() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

ControlApi::~ControlApi() { Stop(); }

void ControlApi::Stop() {
  server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace tp::daemon
