// UiServer: the HTTP side of `telepresence ui` (docs/ui.md). It listens on 127.0.0.1 only, lets a
// request through only when its AccessPolicy allows it, serves the embedded page, decodes the JSON
// API's requests into UiDriver calls and streams the EventHub's events (SSE). It holds no state of
// its own beyond the policy; the driver does the work.
//
// Every answer carries no-store, nosniff, DENY framing, no-referrer and a Content-Security-Policy
// of the page's own origin; no CORS header is ever sent. Bodies over 64 KiB are refused (413).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "webui/access_policy.h"
#include "webui/assets.h"
#include "webui/event_hub.h"
#include "webui/ui_driver.h"

namespace httplib {
class Server;
}

namespace tp::webui {

inline constexpr size_t kMaxBodyBytes = 64 * 1024;

class UiServer {
 public:
  UiServer(UiDriver& driver, EventHub& events, AssetTable assets);
  ~UiServer();  // Stop()
  UiServer(const UiServer&) = delete;
  UiServer& operator=(const UiServer&) = delete;

  // Binds 127.0.0.1:port (0: a free port) for the secret `token`. False with `error` set when the
  // port cannot be bound.
  bool Listen(uint16_t port, std::string token, std::string& error);
  uint16_t port() const { return port_; }

  // Serves on a background thread until Stop().
  void Start();
  // Ends every event stream, stops accepting and waits for the serving thread. Idempotent.
  void Stop();

 private:
  void AddRoutes();

  UiDriver& driver_;
  EventHub& events_;
  AssetTable assets_;
  std::unique_ptr<httplib::Server> http_;
  std::optional<AccessPolicy> policy_;  // set by Listen, read-only while serving
  uint16_t port_ = 0;
  std::thread serve_thread_;
};

}  // namespace tp::webui
