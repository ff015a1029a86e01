// Errors as values for the Docker Engine API client: an EngineResult<T> holds either a T or an
// EngineError (what kind of failure, the HTTP status when the engine answered, and a sentence
// that quotes the engine's own message). A plain value type, like the CLI's Result.
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tp::docker {

enum class EngineErrorKind {
  kUnreachable,  // no engine at the socket (absent, refused): the message says how to start one
  kTimeout,      // the engine did not answer within the call's deadline
  kCancelled,    // a stream was cancelled by its caller
  kNotFound,     // 404: no such container, image, network, volume or plugin
  kConflict,     // 409: a name in use, a container still running, ...
  kRejected,     // any other non-2xx answer (bad parameters, server error)
  kProtocol,     // an answer this client cannot read (not JSON, wrong types)
  kUnsupported,  // a DOCKER_HOST this client does not speak (tcp://, ssh://)
};

struct EngineError {
  EngineErrorKind kind = EngineErrorKind::kRejected;
  int http_status = 0;  // 0 when the engine gave no HTTP answer
  std::string message;  // a sentence for the user, no trailing newline
};

// The one sentence saying how to get a Docker engine running (the CLI's messages end with it).
inline constexpr std::string_view kStartDockerdAdvice =
    "start dockerd (scripts/ensure-dockerd.sh does) and try again";

template <typename T>
class EngineResult {
 public:
  template <typename U = T>
  requires(std::is_constructible_v<T, U&&> &&
           !std::is_same_v<std::remove_cvref_t<U>, EngineError> &&
           !std::is_same_v<std::remove_cvref_t<U>, EngineResult>) EngineResult(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  EngineResult(EngineError error)                                  // NOLINT
      : state_(std::in_place_index<1>, std::move(error)) {}

  bool ok() const { return state_.index() == 0; }
  // Preconditions: ok() for value(), !ok() for error().
  const T& value() const& { return std::get<0>(state_); }
  T& value() & { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  const EngineError& error() const { return std::get<1>(state_); }

 private:
  std::variant<T, EngineError> state_;
};

struct Done {};
using EngineStatus = EngineResult<Done>;

}  // namespace tp::docker
