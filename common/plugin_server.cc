#include "common/plugin_server.h"

#include <httplib.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

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

}  // namespace

// httplib 0.11.4 cannot listen on AF_UNIX by itself; its listening socket member is protected,
// so this subclass binds the Unix socket and hands it over.
class PluginServer::UnixHttpServer : public httplib::Server {
 public:
  void BindUnix(const std::string& path) {
    sockaddr_un address{};
    if (path.size() >= sizeof(address.sun_path)) {
      throw std::runtime_error("socket path too long: " + path);
    }
    std::error_code ignored;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
    ::unlink(path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, path.c_str(), path.size());
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd, 64) != 0) {
      const std::string reason = std::strerror(errno);
      ::close(fd);
      throw std::runtime_error("cannot listen on " + path + ": " + reason);
    }
    ::chmod(path.c_str(), 0660);
    svr_sock_ = fd;
  }
  bool Serve() { return listen_after_bind(); }
};

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
    http_->Post("/" + route.method, [route](const httplib::Request& request,
                                            httplib::Response& response) {
      nlohmann::json body = nlohmann::json::object();
      if (!request.body.empty()) {
        body = nlohmann::json::parse(request.body, nullptr, /*allow_exceptions=*/false);
        if (body.is_discarded() || !(body.is_object() || body.is_null())) {
          spdlog::warn("{}: malformed request body", route.method);
          Reply(response, 400, ErrorReply(route.method + ": request body is not a JSON object"));
          return;
        }
        if (body.is_null()) body = nlohmann::json::object();
      }
      spdlog::debug("{} <- {}", route.method, JsonText(body));
      try {
        nlohmann::json reply = route.handler(body);
        spdlog::debug("{} -> {}", route.method, JsonText(reply));
        Reply(response, 200, reply);
      } catch (const std::exception& error) {
        spdlog::info("{} failed: {}", route.method, error.what());
        Reply(response, 500, ErrorReply(error.what()));
      }
    });
  }
}

void PluginServer::Start() {
  http_->BindUnix(socket_path_);
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

}  // namespace tp
