// Secrets that two of our programs share: random tokens and their comparison. A token is
// kSecretTokenBytes random bytes from the kernel (getrandom), hex-encoded in lower case.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp {

inline constexpr size_t kSecretTokenBytes = 16;
inline constexpr size_t kSecretTokenLength = 2 * kSecretTokenBytes;

// A fresh token; nullopt with `error` set when the kernel gives no random bytes.
std::optional<std::string> NewSecretToken(std::string& error);

// Whether `text` has a token's shape: kSecretTokenLength characters of [0-9a-f].
bool IsSecretToken(std::string_view text);

// Whether `given` equals `expected`, in a time that does not depend on where they differ.
bool SameSecret(std::string_view given, std::string_view expected);

}  // namespace tp
