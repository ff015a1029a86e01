// Who may reach `telepresence ui` (docs/ui.md, "Who may reach it"): the decision for one request,
// from the few facts of it that matter. Pure: no I/O, no clock.
//
// In order:
//  1. Host must be 127.0.0.1:PORT or localhost:PORT (DNS rebinding): else kForeignHost (403).
//  2. A state-changing method (anything but GET and HEAD) with an Origin header that is not this
//     server's own (http://127.0.0.1:PORT, http://localhost:PORT): kForeignOrigin (403).
//  3. `GET /?token=T` with the right T: kSetCookie (303 to "/" with the session cookie).
//  4. The session cookie must hold the token (compared in constant time): else kNoSecret (401).
//  5. A state-changing request with a body (not DELETE) must say Content-Type: application/json,
//     which a cross-site form cannot send: else kNotJson (415).
//  Otherwise kAllow.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tp::webui {

inline constexpr std::string_view kSessionCookie = "tp_ui";

struct RequestFacts {
  std::string method;                       // "GET", "POST", ...
  std::string path;                         // without the query
  std::optional<std::string> host;          // the Host header
  std::optional<std::string> origin;        // the Origin header
  std::optional<std::string> cookie;        // the Cookie header, whole
  std::optional<std::string> query_token;   // ?token=, when given
  std::optional<std::string> content_type;  // the Content-Type header
};

enum class Access {
  kAllow,
  kSetCookie,      // answer 303 to "/" with SessionCookieHeader()
  kForeignHost,    // 403
  kForeignOrigin,  // 403
  kNoSecret,       // 401
  kNotJson,        // 415
};

class AccessPolicy {
 public:
  // `port`: the port the server listens on; `token`: this start's secret.
  AccessPolicy(uint16_t port, std::string token);

  Access Check(const RequestFacts& request) const;

  // The Set-Cookie value for kSetCookie.
  std::string SessionCookieHeader() const;
  // What the refusal says, for the answer's body.
  static std::string Explain(Access access);
  // The HTTP status of a refusal (200 for kAllow, 303 for kSetCookie).
  static int HttpStatus(Access access);

 private:
  bool IsOwnHost(std::string_view host) const;
  bool IsOwnOrigin(std::string_view origin) const;

  uint16_t port_;
  std::string token_;
};

// The value of cookie `name` in a Cookie header ("a=1; tp_ui=x"), or nullopt.
std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name);

}  // namespace tp::webui
