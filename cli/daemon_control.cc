#include "cli/daemon_control.h"

#include <httplib.h>

#include <string>

namespace tp::cli {
namespace {

constexpr char kLoopback[] = "127.0.0.1";

std::string Where(uint16_t port, std::string_view method, std::string_view path) {
  return std::string(method) + " " + std::string(path) + " on the daemon's control API (" +
         kLoopback + ":" + std::to_string(port) + ")";
}

CliError NoAnswer(uint16_t port, std::string_view method, std::string_view path,
                  httplib::Error error) {
  return CliError{Where(port, method, path) + " got no answer: " + httplib::to_string(error)};
}

CliError BadStatus(uint16_t port, std::string_view method, std::string_view path,
                   const httplib::Response& response) {
  return CliError{Where(port, method, path) + " answered HTTP " + std::to_string(response.status) +
                  ": " + response.body};
}

// How long an engagement call may take: the daemon asks the traffic-manager.
constexpr std::chrono::seconds kCallTimeout{15};

}  // namespace

HttpDaemonControl::HttpDaemonControl(const DaemonEndpoint& endpoint,
                                     std::chrono::milliseconds timeout)
    : port_(endpoint.port), client_(std::make_unique<httplib::Client>(kLoopback, endpoint.port)) {
  if (!endpoint.token.empty()) client_->set_bearer_token_auth(endpoint.token);
  client_->set_connection_timeout(timeout);
  client_->set_read_timeout(timeout);
  client_->set_write_timeout(timeout);
}

HttpDaemonControl::~HttpDaemonControl() = default;

Result<nlohmann::json> HttpDaemonControl::GetStatus() {
  httplib::Result result = client_->Get("/status");
  if (!result) return NoAnswer(port_, "GET", "/status", result.error());
  if (result->status != 200) return BadStatus(port_, "GET", "/status", *result);
  nlohmann::json body = nlohmann::json::parse(result->body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    return CliError{Where(port_, "GET", "/status") + " answered something that is not JSON"};
  }
  return body;
}

Status HttpDaemonControl::Quit() {
  httplib::Result result = client_->Post("/quit");
  if (!result) return NoAnswer(port_, "POST", "/quit", result.error());
  if (result->status != 200) return BadStatus(port_, "POST", "/quit", *result);
  return Ok{};
}

Result<nlohmann::json> HttpDaemonControl::Call(std::string_view method, std::string_view path,
                                               const nlohmann::json& body) {
  client_->set_read_timeout(kCallTimeout);
  const std::string target(path);
  const std::string text = body.is_null() ? "" : body.dump();
  httplib::Result result = method == "GET"      ? client_->Get(target)
                           : method == "DELETE" ? client_->Delete(target)
                                                : client_->Post(target, text, "application/json");
  if (!result) return NoAnswer(port_, method, path, result.error());
  nlohmann::json answer = result->body.empty() ? nlohmann::json::object()
                                               : nlohmann::json::parse(result->body, nullptr,
                                                                       /*allow_exceptions=*/false);
  if (result->status != 200) {
    if (answer.is_object() && answer.contains("error") && answer["error"].is_string()) {
      return CliError{answer["error"].get<std::string>()};
    }
    return BadStatus(port_, method, path, *result);
  }
  if (answer.is_discarded()) {
    return CliError{Where(port_, method, path) + " answered something that is not JSON"};
  }
  return answer;
}

}  // namespace tp::cli
