// ControlApi is the daemon's control API for the CLI: HTTP + JSON on a TCP address (published
// on 127.0.0.1 only by the CLI). Routes come from one table:
//   GET  /status -> {"connected":bool, "manager":"host:port", "subnets":[...],
//                    "dns":{"address":"ip:port", "search":[...]}, "error":"...",
//                    "reconnects":N,
//                    "capture":{"enabled":bool, "active":bool, "port":N, "subnets":[...],
//                               "error":"..."}}
//   POST /quit   -> {"stopping":true}, then calls the quit callback (which should only ask the
//                   process to stop: it runs on a request thread).
//   The engagement routes of docs/engagements.md ("CLI -> daemon"), each answered by its
//   callback: GET /workloads, POST /engagements, POST /engagements/<id>/handler,
//   GET /engagements, DELETE /engagements/<id>. A route that takes a body answers 400 when it is
//   not a JSON object; a route without its callback answers 503.
// Every route but GET /status needs "Authorization: Bearer <token>" when the API has a token,
// and answers 401 without it: containers that reach the daemon's address (on Docker's bridge or
// the Teleroute network) must not stop it, take a workload's traffic or read the workloads and
// engagements. GET /status holds no secret and stays open (the Teleroute plugin polls it).
// Any other path answers 404, a known path with another method 405, all errors as
// {"error":"..."}.
// Slow clients cannot starve it: the TCP listener is a ConnectionGate (daemon/connection_gate.h)
// that keeps at most kControlConnections connections open, kControlConnectionsPerPeer of them
// from one address (one more is closed at once), closes
// each kControlDeadline after its accept whatever it is doing, and relays to the HTTP server,
// which listens only on a Unix socket in a folder of its own (0700) and has more workers than
// the gate lets connections in, so that no set of connections can hold every worker.
// Start() returns once the sockets are bound; Stop() (or the destructor) returns once the gate's
// and the server's threads have ended; the destructor removes the Unix socket and its folder.
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "api/daemon_status.h"

namespace tp {
class UnixHttpServer;
}

namespace tp::daemon {

class ConnectionGate;

// The control API's limits per connection (see ConnectionGate).
inline constexpr size_t kControlConnections = 64;
// At most this many of them from one address: a neighbour container (one address) cannot take
// the slots of the host's CLI and Teleroute plugin (whose connections come from the host's).
inline constexpr size_t kControlConnectionsPerPeer = 16;
inline constexpr std::chrono::seconds kControlDeadline{15};

// What a route answers: the HTTP status and the JSON body ({"error": "..."} unless 200).
struct ControlReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();
};

// Called from request threads.
struct ControlCallbacks {
  std::function<api::DaemonStatus()> status;  // called for each GET /status
  std::function<void()> quit;               // called once per POST /quit, after the reply is built
  std::function<ControlReply()> workloads;  // GET /workloads
  std::function<ControlReply(const nlohmann::json& body)> engage;  // POST /engagements
  std::function<ControlReply(const std::string& id, const nlohmann::json& body)>
      set_handler;                                           // POST /engagements/<id>/handler
  std::function<ControlReply()> engagements;                 // GET /engagements
  std::function<ControlReply(const std::string& id)> leave;  // DELETE /engagements/<id>
};

class ControlApi {
 public:
  // Listens on `host`:`port` (numeric; port 0 picks one); `token` guards every route but
  // GET /status ("" leaves them open). nullptr with `error` set on failure.
  static std::unique_ptr<ControlApi> Start(const std::string& host, uint16_t port,
                                           const std::string& token, ControlCallbacks callbacks,
                                           std::string& error);
  ~ControlApi();
  ControlApi(const ControlApi&) = delete;
  ControlApi& operator=(const ControlApi&) = delete;

  uint16_t Port() const;
  // Stops listening, closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  class PrivateFolder;

  ControlApi(std::string token, ControlCallbacks callbacks, std::unique_ptr<PrivateFolder> folder,
             std::unique_ptr<UnixHttpServer> server);
  void Route();

  const std::string token_;
  const ControlCallbacks callbacks_;
  const std::unique_ptr<PrivateFolder> folder_;  // holds the server's socket; removed last
  const std::unique_ptr<UnixHttpServer> server_;
  std::unique_ptr<ConnectionGate> gate_;  // set once by Start
  std::thread thread_;
};

}  // namespace tp::daemon
