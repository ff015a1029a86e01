// The CLI's side of the daemon's control API (daemon/control_api.h, docs/engagements.md): GET
// /status, POST /quit and the engagement calls on 127.0.0.1:<published port>. DaemonControl is the
// interface the commands use (tests give a fake); HttpDaemonControl is cpp-httplib's Client with
// short timeouts, one per daemon port.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "cli/result.h"

namespace httplib {
class Client;
}

namespace tp::cli {

class DaemonControl {
 public:
  virtual ~DaemonControl() = default;
  // The body of GET /status. Error: no answer, not 200, or not JSON.
  virtual Result<nlohmann::json> GetStatus() = 0;
  // POST /quit. Error: no answer or not 200.
  virtual Status Quit() = 0;
  // METHOD PATH ("GET", "POST", "DELETE") with a JSON body (null: none); the JSON body of a 200
  // answer. Error: no answer, or the daemon's own sentence ({"error": ...}) when it gave one.
  virtual Result<nlohmann::json> Call(std::string_view method, std::string_view path,
                                      const nlohmann::json& body) = 0;
};

// Where the daemon's control API is published on 127.0.0.1, and the token that its POST and
// DELETE routes need ("" when the daemon has none).
struct DaemonEndpoint {
  uint16_t port = 0;
  std::string token;
};

// Makes a DaemonControl for the control API at that endpoint.
using DaemonControlFactory =
    std::function<std::unique_ptr<DaemonControl>(const DaemonEndpoint& endpoint)>;

class HttpDaemonControl : public DaemonControl {
 public:
  // Sends the endpoint's token on every call (Authorization: Bearer).
  explicit HttpDaemonControl(const DaemonEndpoint& endpoint,
                             std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~HttpDaemonControl() override;
  HttpDaemonControl(const HttpDaemonControl&) = delete;
  HttpDaemonControl& operator=(const HttpDaemonControl&) = delete;

  Result<nlohmann::json> GetStatus() override;
  Status Quit() override;
  Result<nlohmann::json> Call(std::string_view method, std::string_view path,
                              const nlohmann::json& body) override;

 private:
  const uint16_t port_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace tp::cli
