// ControlApi is the daemon's control API for the CLI: HTTP + JSON on a TCP address (published
// on 127.0.0.1 only by the CLI). Routes come from one table:
//   GET  /status -> {"connected":bool, "manager":"host:port", "subnets":[...],
//                    "dns":{"address":"ip:port", "search":[...]}, "error":"...",
//                    "reconnects":N,
//                    "capture":{"enabled":bool, "active":bool, "port":N, "subnets":[...],
//                               "error":"..."}}
//   POST /quit   -> {"stopping":true}, then calls the quit callback (which should only ask the
//                   process to stop: it runs on a request thread).
// Any other path answers 404, a known path with another method 405, both as {"error":"..."}.
// Start() returns once the socket is bound; Stop() (or the destructor) returns once the server
// thread has ended. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "daemon/capture_status.h"

namespace httplib {
class Server;
}

namespace tp::daemon {

struct DaemonStatus {
  bool connected = false;
  std::string manager;                  // "host:port"
  std::vector<std::string> subnets;     // CIDR, from the manager
  std::string dns_address;              // where the daemon's DNS server listens, "ip:port"
  std::vector<std::string> dns_search;  // search domains, from the manager
  std::string error;                    // the last failure; "" when none
  uint64_t reconnects = 0;
  CaptureStatus capture;
};

// The /status body for `status`.
nlohmann::json StatusToJson(const DaemonStatus& status);

struct ControlCallbacks {
  std::function<DaemonStatus()> status;  // called for each GET /status, from request threads
  std::function<void()> quit;            // called once per POST /quit, after the reply is built
};

class ControlApi {
 public:
  // Listens on `host`:`port` (numeric; port 0 picks one). nullptr with `error` set on failure.
  static std::unique_ptr<ControlApi> Start(const std::string& host, uint16_t port,
                                           ControlCallbacks callbacks, std::string& error);
  ~ControlApi();
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  uint16_t Port() const { return port_; }
  // Stops listening and joins the server thread. Idempotent.
  void Stop();

 private:
  ControlApi(ControlCallbacks callbacks, std::unique_ptr<httplib::Server> server, uint16_t port);

  const ControlCallbacks callbacks_;
  const std::unique_ptr<httplib::Server> server_;
  const uint16_t port_;
  std::thread thread_;
};

}  // namespace tp::daemon
