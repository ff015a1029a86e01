#include "common/secret.h"

#include <sys/random.h>

#include <cerrno>
#include <cstring>

namespace tp {

std::optional<std::string> NewSecretToken(std::string& error) {
  unsigned char bytes[kSecretTokenBytes];
  if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) {
    error = std::string("no random bytes from the kernel: ") + std::strerror(errno);
    return std::nullopt;
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kSecretTokenLength);
  for (const unsigned char byte : bytes) {
    token += kHex[byte >> 4];
    token += kHex[byte & 0xf];
  }
  return token;
}

bool IsSecretToken(std::string_view text) {
  if (text.size() != kSecretTokenLength) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool SameSecret(std::string_view given, std::string_view expected) {
  unsigned char difference = given.size() == expected.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    difference |= static_cast<unsigned char>(expected[i] ^ (i < given.size() ? given[i] : 0));
  }
  return difference == 0;
}

}  // namespace tp
