#include "telemount/volume/volume_options.h"

#include <charconv>
#include <set>
#include <string_view>
#include <vector>

#include "common/secret.h"

namespace tp::telemount {
namespace {

const std::set<std::string>& KnownOptions() {
  static const std::set<std::string> known = {"host", "port", "container", "dir",
                                              "ro",   "path", "token"};
  return known;
}

std::string Quoted(std::string_view text) { return "\"" + std::string(text) + "\""; }

[[noreturn]] void Reject(std::string_view option, std::string_view problem) {
  throw VolumeOptionError("option " + Quoted(option) + " " + std::string(problem));
}

const std::string* Find(const VolumeOptions& options, const std::string& name) {
  auto it = options.find(name);
  return it == options.end() ? nullptr : &it->second;
}

const std::string& Require(const VolumeOptions& options, const std::string& name,
                           std::string_view why) {
  const std::string* value = Find(options, name);
  if (value == nullptr) {
    throw VolumeOptionError("missing required option " + Quoted(name) + std::string(why));
  }
  if (value->empty()) Reject(name, "must not be empty");
  return *value;
}

void RejectUnknownOptions(const VolumeOptions& options) {
  for (const auto& [name, value] : options) {
    if (KnownOptions().count(name) == 0) {
      throw VolumeOptionError("unknown option " + Quoted(name) +
                              " (known: host, port, container, dir, ro, path, token)");
    }
  }
}

void RejectNul(const VolumeOptions& options) {
  for (const auto& [name, value] : options) {
    if (value.find('\0') != std::string::npos) Reject(name, "must not contain a NUL byte");
  }
}

bool IsHostCharacter(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_' || c == ':';
}

std::string ParseHost(const VolumeOptions& options) {
  const std::string& host = Require(options, "host", "");
  for (char c : host) {
    if (!IsHostCharacter(c)) {
      Reject("host", "must be a host name or an IP address, got " + Quoted(host));
    }
  }
  return host;
}

uint16_t ParsePort(const VolumeOptions& options) {
  const std::string& text = Require(options, "port", "");
  unsigned value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1 || value > 65535) {
    Reject("port", "must be an integer from 1 to 65535, got " + Quoted(text));
  }
  return static_cast<uint16_t>(value);
}

std::string ParseToken(const VolumeOptions& options) {
  const std::string* value = Find(options, "token");
  if (value == nullptr) return "";
  // Never echoed: a wrong token may still be most of a right one.
  if (!IsSecretToken(*value)) Reject("token", "must be 32 lower-case hex digits");
  return *value;
}

bool ParseReadOnly(const VolumeOptions& options) {
  const std::string* value = Find(options, "ro");
  if (value == nullptr) return false;
  if (value->empty() || *value == "true" || *value == "1" || *value == "yes") return true;
  if (*value == "false" || *value == "0" || *value == "no") return false;
  Reject("ro", "must be true, false, 1, 0, yes or no, got " + Quoted(*value));
}

// Splits `path` at "/" and drops empty and "." components; rejects "..".
std::vector<std::string> PathComponents(std::string_view option, std::string_view path) {
  std::vector<std::string> components;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view component = path.substr(start, end - start);
    if (component == "..") Reject(option, "must not contain a \"..\" component");
    if (!component.empty() && component != ".") components.emplace_back(component);
    start = end + 1;
  }
  return components;
}

std::string JoinAbsolute(const std::vector<std::string>& components) {
  if (components.empty()) return "/";
  std::string path;
  for (const std::string& component : components) path += "/" + component;
  return path;
}

std::string ParseContainer(const VolumeOptions& options) {
  const std::string& container =
      Require(options, "container", " (or give an absolute remote folder with \"path\")");
  if (container.find('/') != std::string::npos) {
    Reject("container", "must be a container name, not a path: " + Quoted(container));
  }
  if (container == "." || container == "..") {
    Reject("container", "must be a container name, got " + Quoted(container));
  }
  return container;
}

std::string AgentExportFolder(const VolumeOptions& options) {
  std::vector<std::string> components = PathComponents("container", kAgentExportsRoot);
  components.push_back(ParseContainer(options));
  if (const std::string* dir = Find(options, "dir")) {
    if (!dir->empty() && dir->front() == '/') {
      Reject("dir", "must be relative to the container's exports, got " + Quoted(*dir));
    }
    for (std::string& component : PathComponents("dir", *dir)) {
      components.push_back(std::move(component));
    }
  }
  return JoinAbsolute(components);
}

std::string DirectFolder(const VolumeOptions& options) {
  for (const char* excluded : {"container", "dir"}) {
    if (Find(options, excluded) != nullptr) {
      Reject("path", std::string("cannot be combined with \"") + excluded + "\"");
    }
  }
  const std::string& path = Require(options, "path", "");
  if (path.front() != '/') Reject("path", "must be an absolute folder, got " + Quoted(path));
  return JoinAbsolute(PathComponents("path", path));
}

}  // namespace

VolumeSpec ParseVolumeOptions(const VolumeOptions& options) {
  RejectUnknownOptions(options);
  RejectNul(options);
  VolumeSpec spec;
  spec.endpoint.host = ParseHost(options);
  spec.endpoint.port = ParsePort(options);
  spec.endpoint.read_only = ParseReadOnly(options);
  spec.endpoint.token = ParseToken(options);
  spec.remote_folder =
      Find(options, "path") != nullptr ? DirectFolder(options) : AgentExportFolder(options);
  return spec;
}

bool IsValidVolumeName(const std::string& name) {
  if (name.empty()) return false;
  auto is_alphanumeric = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!is_alphanumeric(name.front())) return false;
  for (char c : name) {
    if (!is_alphanumeric(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

}  // namespace tp::telemount
