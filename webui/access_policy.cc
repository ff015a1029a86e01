#include "webui/access_policy.h"

#include <utility>

#include "common/secret.h"

namespace tp::webui {
namespace {

bool IsReadOnlyMethod(std::string_view method) { return method == "GET" || method == "HEAD"; }

std::string_view Trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// "application/json" or "application/json; charset=utf-8", in any case.
bool IsJsonContentType(std::string_view content_type) {
  std::string_view media = Trim(content_type.substr(0, content_type.find(';')));
  constexpr std::string_view kJson = "application/json";
  if (media.size() != kJson.size()) return false;
  for (size_t i = 0; i < media.size(); ++i) {
    char c = media[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kJson[i]) return false;
  }
  return true;
}

}  // namespace

std::optional<std::string> CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const size_t end = cookie_header.find(';');
    std::string_view pair = Trim(cookie_header.substr(0, end));
    cookie_header = end == std::string_view::npos ? "" : cookie_header.substr(end + 1);
    const size_t equals = pair.find('=');
    if (equals == std::string_view::npos) continue;
    if (Trim(pair.substr(0, equals)) == name) return std::string(Trim(pair.substr(equals + 1)));
  }
  return std::nullopt;
}

AccessPolicy::AccessPolicy(uint16_t port, std::string token)
    : port_(port), token_(std::move(token)) {}

bool AccessPolicy::IsOwnHost(std::string_view host) const {
  const std::string port = ":" + std::to_string(port_);
  return host == "127.0.0.1" + port || host == "localhost" + port;
}

bool AccessPolicy::IsOwnOrigin(std::string_view origin) const {
  constexpr std::string_view kScheme = "http://";
  if (origin.substr(0, kScheme.size()) != kScheme) return false;
  return IsOwnHost(origin.substr(kScheme.size()));
}

Access AccessPolicy::Check(const RequestFacts& request) const {
  if (!request.host || !IsOwnHost(*request.host)) return Access::kForeignHost;
  const bool changes_state = !IsReadOnlyMethod(request.method);
  if (changes_state && request.origin && !IsOwnOrigin(*request.origin)) {
    return Access::kForeignOrigin;
  }
  if (request.query_token && request.method == "GET" && request.path == "/") {
    return SameSecret(*request.query_token, token_) ? Access::kSetCookie : Access::kNoSecret;
  }
  std::optional<std::string> session =
      request.cookie ? CookieValue(*request.cookie, kSessionCookie) : std::nullopt;
  if (!session || !SameSecret(*session, token_)) return Access::kNoSecret;
  const bool sends_body = request.method != "DELETE";  // a cross-site form can only GET or POST
  if (changes_state && sends_body &&
      !(request.content_type && IsJsonContentType(*request.content_type))) {
    return Access::kNotJson;
  }
  return Access::kAllow;
}

std::string AccessPolicy::SessionCookieHeader() const {
  return std::string(kSessionCookie) + "=" + token_ + "; HttpOnly; SameSite=Strict; Path=/";
}

std::string AccessPolicy::Explain(Access access) {
  switch (access) {
    case Access::kAllow:
    case Access::kSetCookie:
      return "";
    case Access::kForeignHost:
      return "refused: this server answers only to http://127.0.0.1:PORT or http://localhost:PORT "
             "(the Host header names another site)";
    case Access::kForeignOrigin:
      return "refused: the request comes from another site (its Origin header)";
    case Access::kNoSecret:
      return "not signed in: open the address with ?token=... that `telepresence ui` printed";
    case Access::kNotJson:
      return "refused: a request that changes something must send Content-Type: "
             "application/json";
  }
  return "refused";
}

int AccessPolicy::HttpStatus(Access access) {
  switch (access) {
    case Access::kAllow:
      return 200;
    case Access::kSetCookie:
      return 303;
    case Access::kForeignHost:
    case Access::kForeignOrigin:
      return 403;
    case Access::kNoSecret:
      return 401;
    case Access::kNotJson:
      return 415;
  }
  return 403;
}

}  // namespace tp::webui
