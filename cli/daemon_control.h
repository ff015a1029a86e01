// The CLI's side of the daemon's control API (daemon/control_api.h): GET /status and POST /quit
// on 127.0.0.1:<published port>. DaemonControl is the interface the commands use (tests give a
// fake); HttpDaemonControl is cpp-httplib's Client with short timeouts, one per daemon port.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

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
};

// Makes a DaemonControl for the control API published on 127.0.0.1:port.
using DaemonControlFactory = std::function<std::unique_ptr<DaemonControl>(uint16_t port)>;

class HttpDaemonControl : public DaemonControl {
 public:
  explicit HttpDaemonControl(uint16_t port,
                             std::chrono::milliseconds timeout = std::chrono::seconds(2));
  ~HttpDaemonControl() override;
  HttpDaemonControl(const HttpDaemonControl&) = delete;
  HttpDaemonControl& operator=(const HttpDaemonControl&) = delete;

  Result<nlohmann::json> GetStatus() override;
  Status Quit() override;

 private:
  const uint16_t port_;
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace tp::cli
