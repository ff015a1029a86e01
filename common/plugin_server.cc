#include "common/plugin_server.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>

#include "common/unix_listener.h"
#include "net/accept.h"
#include "net/http_head.h"
#include "net/socket_wait.h"

namespace tp {
namespace {

constexpr const char* kContentType = "application/vnd.docker.plugins.v1.2+json";

// JSON text that never throws: bytes that are not UTF-8 (a peer's request path, a name in an
// error) are replaced by U+FFFD.
std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

using Clock = std::chrono::steady_clock;

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

namespace {

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    default:
      return "Unknown";
  }
}

std::string ResponseText(const PluginAnswer& answer, bool close) {
  return "HTTP/1.1 " + std::to_string(answer.status) + " " + ReasonPhrase(answer.status) +
         "\r\nContent-Type: " + kContentType +
         "\r\nContent-Length: " + std::to_string(answer.body.size()) +
         (close ? "\r\nConnection: close" : "") + "\r\n\r\n" + answer.body;
}

}  // namespace

PluginServer::PluginServer(std::string socket_path, std::vector<std::string> implements)
    : socket_path_(std::move(socket_path)), implements_(std::move(implements)) {}

PluginServer::~PluginServer() { Stop(); }

void PluginServer::AddRoutes(const std::vector<PluginRoute>& routes) {
  for (const PluginRoute& route : routes) routes_["/" + route.method] = route;
}

void PluginServer::Start() {
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(socket_path_).parent_path(), ignored);
  std::string error;
  listener_ = ListenUnix(socket_path_, 0660, error);
  if (!listener_.Valid()) throw std::runtime_error(error);
  stop_event_ = UniqueFd(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_event_.Valid())
    throw std::runtime_error(std::string("eventfd: ") + std::strerror(errno));
  accept_thread_ = std::thread([this] { AcceptLoop(); });
  spdlog::info("serving {} on {}", implements_.empty() ? "" : implements_.front(), socket_path_);
}

void PluginServer::Stop() {
  if (!accept_thread_.joinable()) return;
  const uint64_t one = 1;
  if (::write(stop_event_.Get(), &one, sizeof one) < 0) {
    spdlog::warn("cannot signal the plugin server to stop: {}", std::strerror(errno));
  }
  accept_thread_.join();
  {
    MutexLock lock(connections_mutex_);
    while (connections_ > 0) connections_done_.Wait(connections_mutex_);
  }
  listener_.Reset();
  ::unlink(socket_path_.c_str());
}

void PluginServer::AcceptLoop() {
  while (WaitForSocket(listener_.Get(), POLLIN, Clock::time_point::max(), stop_event_.Get()) ==
         SocketWait::kReady) {
    UniqueFd connection = AcceptConnection(listener_.Get());  // backs off when out of fds
    if (!connection.Valid()) continue;
    {
      MutexLock lock(connections_mutex_);
      if (connections_ >= kMaxPluginConnections) {
        spdlog::warn("{}: {} connections already, closing a new one", socket_path_,
                     kMaxPluginConnections);
        continue;  // `connection` closes here
      }
      ++connections_;
    }
    std::thread([this, connection = std::move(connection)]() mutable {
      Serve(std::move(connection));
      MutexLock lock(connections_mutex_);
      if (--connections_ == 0) connections_done_.NotifyAll();
    }).detach();
  }
}

void PluginServer::Serve(UniqueFd connection) {
  const int fd = connection.Get();
  std::string received;
  char buffer[16 * 1024];
  // Receives more bytes into `received` before `deadline`; false when the connection ends.
  const auto receive_more = [&](Clock::time_point deadline) {
    if (WaitForSocket(fd, POLLIN, deadline, stop_event_.Get()) != SocketWait::kReady) return false;
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return true;
    if (n <= 0) return false;
    received.append(buffer, static_cast<size_t>(n));
    return true;
  };
  const auto send_all = [&](const std::string& text) {
    return SendAllBefore(fd, text, Clock::now() + kPluginRequestTimeout, stop_event_.Get());
  };
  // Answers {"Err"} and closes; what the peer still sends meanwhile is read and dropped for a
  // moment (at most kMaxPluginBodyBytes more), so that it gets to read the answer rather than
  // a reset.
  const auto refuse = [&](int status, const std::string& why) {
    spdlog::warn("{}: {}", socket_path_, why);
    if (!send_all(ResponseText(Answer(status, ErrorReply(why)), /*close=*/true))) return;
    ::shutdown(fd, SHUT_WR);
    const auto linger_until = Clock::now() + std::chrono::seconds(1);
    for (size_t dropped = 0; dropped < kMaxPluginBodyBytes; dropped += received.size()) {
      received.clear();
      if (!receive_more(linger_until)) return;
    }
  };
  while (true) {
    // The head: an idle connection, and a request that trickles in, get the same deadline.
    const auto deadline = Clock::now() + kPluginRequestTimeout;
    HttpHead head;
    std::string problem;
    HttpHeadState state;
    while ((state = ParseHttpRequestHead(received, &head, &problem)) ==
           HttpHeadState::kIncomplete) {
      if (!receive_more(deadline)) return;
    }
    if (state == HttpHeadState::kMalformed) return refuse(400, "malformed request: " + problem);
    if (head.chunked) return refuse(501, "chunked request bodies are not supported");
    const size_t body_size = head.content_length.value_or(0);
    if (body_size > kMaxPluginBodyBytes) {
      return refuse(413, "request body of " + std::to_string(body_size) + " bytes (at most " +
                             std::to_string(kMaxPluginBodyBytes) + ")");
    }
    while (received.size() < head.size + body_size) {
      if (!receive_more(deadline)) return;
    }
    const std::string body = received.substr(head.size, body_size);
    received.erase(0, head.size + body_size);
    const PluginAnswer answer = Dispatch(head.method, head.target, body);
    if (!send_all(ResponseText(answer, head.close)) || head.close) return;
  }
}

PluginAnswer PluginServer::Dispatch(const std::string& method, const std::string& target,
                                    const std::string& body) const {
  if (method != "POST") return Answer(405, ErrorReply("plugin methods are called with POST"));
  if (target == "/Plugin.Activate") return Answer(200, {{"Implements", implements_}});
  const auto route = routes_.find(target);
  if (route == routes_.end()) return Answer(404, ErrorReply("unknown plugin method " + target));
  return AnswerPluginCall(route->second, body);
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
