// The two loops every named enum of the protocol needs: the value a word names, and the list of
// words for an error sentence. `values` lists the enum's values in order; `name` gives a value's
// word.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tp::api {

template <typename Enum, typename NameOf>
std::optional<Enum> EnumNamed(std::span<const Enum> values, NameOf name, std::string_view text) {
  for (const Enum value : values) {
    if (name(value) == text) return value;
  }
  return std::nullopt;
}

// "a, b, c".
template <typename Enum, typename NameOf>
std::string EnumNames(std::span<const Enum> values, NameOf name) {
  std::string names;
  for (const Enum value : values) {
    names += (names.empty() ? "" : ", ") + std::string(name(value));
  }
  return names;
}

}  // namespace tp::api
