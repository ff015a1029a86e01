#include "common/plugin_server.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>

#include "common/unix_http_server.h"

namespace tp {
namespace {

constexpr const char* kContentType = "application/vnd.docker.plugins.v1.2+json";

// JSON text that never throws: bytes that are not UTF-8 (a peer's request path, a name in an
// error) are replaced by U+FFFD.
std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Reply(httplib::Response& response, int status, const nlohmann::json& body) {
  response.status = status;
  response.set_content(JsonText(body) + "\n", kContentType);
}

// Docker's requests nest four levels at most. Deeper bodies are refused before anything walks
// them: printing a JSON value recurses once per level, and 1 MiB of "[" would overflow a stack.
constexpr int kMaxRequestDepth = 32;

// The parsed body (discarded when it is not JSON) and, in `depth`, how deep it nests. The parser
// itself does not recurse.
nlohmann::json ParseRequestBody(const std::string& body, int& depth) {
  depth = 0;
  auto measure = [&depth](int level, nlohmann::json::parse_event_t, nlohmann::json&) {
    depth = std::max(depth, level);
    return true;
  };
  return nlohmann::json::parse(body, measure, /*allow_exceptions=*/false);
}

PluginAnswer Answer(int status, const nlohmann::json& body) {
  return {status, JsonText(body) + "\n"};
}

}  // namespace

PluginServer::PluginServer(std::string socket_path, std::vector<std::string> implements)
    : socket_path_(std::move(socket_path)),
      implements_(std::move(implements)),
      http_(std::make_unique<UnixHttpServer>()) {
  http_->set_read_timeout(30, 0);
  http_->set_write_timeout(30, 0);
  http_->Post("/Plugin.Activate", [this](const httplib::Request&, httplib::Response& response) {
    Reply(response, 200, {{"Implements", implements_}});
  });
  http_->set_error_handler([](const httplib::Request& request, httplib::Response& response) {
    if (response.status == 404) {
      Reply(response, 404, ErrorReply("unknown plugin method " + request.path));
    }
  });
}

PluginServer::~PluginServer() { Stop(); }

void PluginServer::AddRoutes(const std::vector<PluginRoute>& routes) {
  for (const PluginRoute& route : routes) {
    http_->Post("/" + route.method,
                [route](const httplib::Request& request, httplib::Response& response) {
                  const PluginAnswer answer = AnswerPluginCall(route, request.body);
                  response.status = answer.status;
                  response.set_content(answer.body, kContentType);
                });
  }
}

void PluginServer::Start() {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(socket_path_).parent_path(), ignored);
  std::string error;
  if (!http_->ListenUnix(socket_path_, 0660, error)) throw std::runtime_error(error);
  serve_thread_ = std::thread([this] { http_->Serve(); });
  // stop() is a no-op until the accept loop runs, so Start returns only once it does.
  while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  spdlog::info("serving {} on {}", implements_.empty() ? "" : implements_.front(), socket_path_);
}

void PluginServer::Stop() {
  if (!serve_thread_.joinable()) return;
  http_->stop();
  serve_thread_.join();
  ::unlink(socket_path_.c_str());
}

std::string RequireString(const nlohmann::json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) {
    throw PluginError(std::string("missing field \"") + field + "\"");
  }
  if (!it->is_string()) throw PluginError(std::string("field \"") + field + "\" must be a string");
  if (it->get_ref<const std::string&>().empty()) {
    throw PluginError(std::string("field \"") + field + "\" must not be empty");
  }
  return it->get<std::string>();
}

std::string OptionalString(const nlohmann::json& request, const char* field) {
  auto it = request.find(field);
  if (it == request.end() || it->is_null()) return {};
  if (!it->is_string()) throw PluginError(std::string("field \"") + field + "\" must be a string");
  return it->get<std::string>();
}

nlohmann::json ErrorReply(const std::string& message) { return {{"Err", message}}; }

PluginAnswer AnswerPluginCall(const PluginRoute& route, const std::string& body) {
  nlohmann::json request = nlohmann::json::object();
  if (!body.empty()) {
    int depth = 0;
    request = ParseRequestBody(body, depth);
    if (depth > kMaxRequestDepth) {
      spdlog::warn("{}: request body nested {} levels deep", route.method, depth);
      return Answer(400, ErrorReply(route.method + ": request body nests deeper than " +
                                    std::to_string(kMaxRequestDepth) + " levels"));
    }
    if (request.is_discarded() || !(request.is_object() || request.is_null())) {
      spdlog::warn("{}: malformed request body", route.method);
      return Answer(400, ErrorReply(route.method + ": request body is not a JSON object"));
    }
    if (request.is_null()) request = nlohmann::json::object();
  }
  spdlog::debug("{} <- {}", route.method, JsonText(request));
  try {
    nlohmann::json reply = route.handler(request);
    spdlog::debug("{} -> {}", route.method, JsonText(reply));
    return Answer(200, reply);
  } catch (const std::exception& error) {
    spdlog::info("{} failed: {}", route.method, error.what());
    return Answer(500, ErrorReply(error.what()));
  }
}

}  // namespace tp
