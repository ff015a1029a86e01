// Errors as values for the CLI: a Result<T> holds either a T or a CliError, a sentence for the user
// that says what went wrong and what to do. The conversion to an exit code happens once, in
// app.cc. Result is a plain value type (copyable when T is, not thread-safe to mutate).
#pragma once

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace tp::cli {

// What went wrong, as a sentence meant for the user (no trailing newline).
struct CliError {
  std::string message;
};

template <typename T>
class Result {
 public:
  // Implicit from anything a T can be made of (e.g. one alternative of a variant T), and from a
  // CliError, so that functions can `return value;` and `return CliError{...};`.
  template <typename U = T>
  requires(std::is_constructible_v<T, U&&> && !std::is_same_v<std::remove_cvref_t<U>, CliError> &&
           !std::is_same_v<std::remove_cvref_t<U>, Result>) Result(U&& value)
      : state_(std::in_place_index<0>, std::forward<U>(value)) {}               // NOLINT
  Result(CliError error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return std::holds_alternative<T>(state_); }

  // Preconditions: ok() for value(), !ok() for error().
  const T& value() const& { return std::get<T>(state_); }
  T& value() & { return std::get<T>(state_); }
  T&& value() && { return std::get<T>(std::move(state_)); }
  const CliError& error() const { return std::get<CliError>(state_); }

 private:
  std::variant<T, CliError> state_;
};

// For operations that only succeed or fail.
struct Ok {};
using Status = Result<Ok>;

}  // namespace tp::cli
