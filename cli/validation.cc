#include "cli/validation.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

#include "net/host_port.h"

namespace tp::cli {
namespace {

constexpr size_t kMaxContextNameLength = 63;

bool IsLowercaseLetterOrDigit(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool IsHostName(std::string_view host) {
  if (host.empty()) return false;
  for (char c : host) {
    bool allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                   c == '-' || c == '.' || c == '_';
    if (!allowed) return false;
  }
  return true;
}

bool IsIpv6(const std::string& host) {
  in6_addr address{};
  return inet_pton(AF_INET6, host.c_str(), &address) == 1;
}

char ToLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsLocalhostName(std::string_view host) {
  std::string lower(host);
  std::transform(lower.begin(), lower.end(), lower.begin(), ToLower);
  if (lower.ends_with('.')) lower.pop_back();
  return lower == "localhost" || lower.ends_with(".localhost");
}

bool IsLoopbackIpv4(std::string_view host) {
  in_addr address{};
  if (inet_pton(AF_INET, std::string(host).c_str(), &address) != 1) return false;
  uint32_t value = ntohl(address.s_addr);
  return (value >> 24) == 127 || value == INADDR_ANY;
}

bool IsLoopbackIpv6(const std::string& host) {
  in6_addr address{};
  if (inet_pton(AF_INET6, host.c_str(), &address) != 1) return false;
  if (IN6_IS_ADDR_LOOPBACK(&address) || IN6_IS_ADDR_UNSPECIFIED(&address)) return true;
  return IN6_IS_ADDR_V4MAPPED(&address) && address.s6_addr[12] == 127;
}

}  // namespace

bool IsValidContextName(std::string_view name) {
  if (name.empty() || name.size() > kMaxContextNameLength) return false;
  if (!IsLowercaseLetterOrDigit(name.front())) return false;
  for (char c : name) {
    if (!IsLowercaseLetterOrDigit(c) && c != '-') return false;
  }
  return true;
}

std::string_view ContextNameRule() {
  return "a context name uses lowercase letters, digits and '-', starts with a letter or digit "
         "and has at most 63 characters";
}

bool IsDnsLabel(std::string_view name) {
  if (name.empty() || name.size() > kMaxContextNameLength) return false;
  if (!IsLowercaseLetterOrDigit(name.front()) || !IsLowercaseLetterOrDigit(name.back())) {
    return false;
  }
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return IsLowercaseLetterOrDigit(c) || c == '-'; });
}

std::string_view DnsLabelRule() {
  return "lowercase letters, digits and '-', starting and ending with a letter or digit, at most "
         "63 characters";
}

bool IsHostPort(std::string_view address) {
  const std::optional<HostPort> parts = ParseHostPort(address);
  if (!parts || parts->port == 0) return false;
  const bool bracketed = address.front() == '[';
  return bracketed ? IsIpv6(parts->host) : IsHostName(parts->host);
}

bool IsLoopbackHostPort(std::string_view address) {
  const std::optional<HostPort> parts = ParseHostPort(address);
  if (!parts) return false;
  const std::string& host = parts->host;
  return IsLocalhostName(host) || IsLoopbackIpv4(host) || IsLoopbackIpv6(host);
}

}  // namespace tp::cli
