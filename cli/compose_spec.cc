#include "cli/compose_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <map>

#include "cli/validation.h"

namespace tp::cli {
namespace {

constexpr std::string_view kTeleKey = "x-tele";
constexpr std::string_view kConnectType = "connect";

// Where a problem is, for the sentences: "compose.yml: service local-echo: x-tele".
struct Place {
  const std::string& file;
  std::string what;
  std::string Say(const std::string& problem) const { return file + ": " + what + ": " + problem; }
};

CliError At(const Place& place, const std::string& problem) { return CliError{place.Say(problem)}; }

// The keys of `node` that are not in `known`, as "a, b"; "" when there is none.
std::string UnknownKeys(const YAML::Node& node, std::initializer_list<std::string_view> known) {
  std::string unknown;
  for (const auto& entry : node) {
    const std::string key = entry.first.Scalar();
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      unknown += (unknown.empty() ? "" : ", ") + key;
    }
  }
  return unknown;
}

std::string KnownKeysText(std::initializer_list<std::string_view> known) {
  std::string text;
  for (std::string_view key : known) text += (text.empty() ? "" : ", ") + std::string(key);
  return text;
}

Status RejectUnknownKeys(const YAML::Node& node, std::initializer_list<std::string_view> known,
                         const Place& place) {
  const std::string unknown = UnknownKeys(node, known);
  if (unknown.empty()) return Ok{};
  return At(place, "unknown key " + unknown + " (the keys are " + KnownKeysText(known) + ")");
}

std::optional<uint16_t> PortNumber(std::string_view digits) {
  uint32_t port = 0;
  auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() || port < 1 ||
      port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

Result<PortMapping> ParsePortRule(const std::string& text, const Place& place) {
  const size_t colon = text.find(':');
  const std::optional<uint16_t> local = PortNumber(std::string_view(text).substr(0, colon));
  std::optional<uint16_t> container = local;
  if (colon != std::string::npos) container = PortNumber(std::string_view(text).substr(colon + 1));
  if (!local || !container) {
    return At(place, "invalid port '" + text +
                         "': use PORT or LOCAL:CONTAINER with port numbers from 1 to 65535, "
                         "e.g. 8080 or \"8080:8081\"");
  }
  return PortMapping{.local = *local, .container = *container};
}

Result<std::vector<PortMapping>> ParsePorts(const YAML::Node& node, const Place& place) {
  if (!node.IsSequence()) return At(place, "ports must be a list, e.g. ports: [\"8080:8081\"]");
  std::vector<PortMapping> ports;
  for (const YAML::Node& entry : node) {
    if (!entry.IsScalar()) return At(place, "each port must be PORT or LOCAL:CONTAINER");
    Result<PortMapping> port = ParsePortRule(entry.Scalar(), place);
    if (!port.ok()) return port.error();
    ports.push_back(port.value());
  }
  return ports;
}

std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.ends_with('/')) path.pop_back();
  return path;
}

Result<MountPolicy> ParseMountPolicy(const std::string& text, const Place& place) {
  if (text == "remote") return MountPolicy::kRemote;
  if (text == "remoteReadOnly") return MountPolicy::kRemoteReadOnly;
  if (text == "local") return MountPolicy::kLocal;
  return At(place, "unknown mount policy '" + text +
                       "' (the policies are remote, "
                       "remoteReadOnly, local)");
}

Result<MountRule> ParseMountRule(const YAML::Node& node, const Place& place) {
  if (!node.IsMap()) return At(place, "each mount must be a mapping {path: ..., policy: ...}");
  if (Status known = RejectUnknownKeys(node, {"path", "policy"}, place); !known.ok()) {
    return known.error();
  }
  const YAML::Node path = node["path"];
  if (!path || !path.IsScalar() || !path.Scalar().starts_with('/')) {
    return At(place, "each mount needs the workload's mount path, absolute (path: /srv/data)");
  }
  MountRule rule{.path = WithoutTrailingSlash(path.Scalar())};
  if (const YAML::Node policy = node["policy"]) {
    Result<MountPolicy> parsed = ParseMountPolicy(policy.Scalar(), place);
    if (!parsed.ok()) return parsed.error();
    rule.policy = parsed.value();
  }
  return rule;
}

Result<std::vector<MountRule>> ParseMounts(const YAML::Node& node, const Place& place) {
  if (!node.IsSequence()) return At(place, "mounts must be a list of {path, policy}");
  std::vector<MountRule> mounts;
  for (const YAML::Node& entry : node) {
    Result<MountRule> rule = ParseMountRule(entry, place);
    if (!rule.ok()) return rule.error();
    mounts.push_back(rule.value());
  }
  return mounts;
}

// The service's x-tele: nullopt for `type: connect`.
Result<std::optional<ServiceEngagement>> ParseServiceTele(const YAML::Node& tele,
                                                          const std::string& service,
                                                          const Place& place) {
  if (!tele.IsMap()) return At(place, "x-tele must be a mapping, e.g. {type: replace}");
  if (Status known = RejectUnknownKeys(tele, {"type", "name", "ports", "mounts"}, place);
      !known.ok()) {
    return known.error();
  }
  const YAML::Node type = tele["type"];
  if (!type || !type.IsScalar()) {
    return At(place, "x-tele needs a type: connect, " + api::EngagementModeNames());
  }
  if (type.Scalar() == kConnectType) {
    if (tele.size() != 1) return At(place, "type connect takes no other key");
    return std::optional<ServiceEngagement>();
  }
  const std::optional<EngagementMode> mode = api::ParseEngagementMode(type.Scalar());
  if (!mode) {
    return At(place, "unsupported type '" + type.Scalar() + "' (the types are connect, " +
                         api::EngagementModeNames() + ")");
  }
  ServiceEngagement engagement{.mode = *mode, .workload = service};
  if (const YAML::Node name = tele["name"]) engagement.workload = name.Scalar();
  if (!IsDnsLabel(engagement.workload)) {
    return At(place, "the workload name '" + engagement.workload +
                         "' is not one: " + std::string(DnsLabelRule()) + " (name: WORKLOAD)");
  }
  if (const YAML::Node ports = tele["ports"]) {
    if (*mode == EngagementMode::kIngest) return At(place, "ingest engages no ports");
    Result<std::vector<PortMapping>> parsed = ParsePorts(ports, place);
    if (!parsed.ok()) return parsed.error();
    engagement.ports = parsed.value();
  }
  if (const YAML::Node mounts = tele["mounts"]) {
    Result<std::vector<MountRule>> parsed = ParseMounts(mounts, place);
    if (!parsed.ok()) return parsed.error();
    engagement.mounts = parsed.value();
  }
  return std::optional<ServiceEngagement>(engagement);
}

// docker-compose's rule for service names (they name our env files and volumes too).
bool IsServiceName(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Result<ComposeService> ParseService(const std::string& name, const YAML::Node& node,
                                    const std::string& file) {
  if (!IsServiceName(name) || name == "." || name == "..") {
    return CliError{file + ": invalid service name '" + name +
                    "': use letters, digits, '.', '_' and '-'"};
  }
  ComposeService service{.name = name};
  if (!node.IsMap()) return service;  // docker-compose says what is wrong with it
  service.has_networks = static_cast<bool>(node["networks"]);
  service.has_network_mode = static_cast<bool>(node["network_mode"]);
  const YAML::Node tele = node[std::string(kTeleKey)];
  if (!tele) return service;
  const Place place{file, "service " + name + ": x-tele"};
  Result<std::optional<ServiceEngagement>> engagement = ParseServiceTele(tele, name, place);
  if (!engagement.ok()) return engagement.error();
  if (service.has_network_mode) {
    return At(place,
              "a service with network_mode cannot join the cluster's network; remove "
              "network_mode or x-tele");
  }
  service.engagement = engagement.value();
  return service;
}

Result<std::optional<std::string>> ParseTopLevelTele(const YAML::Node& tele,
                                                     const std::string& file) {
  const Place place{file, "x-tele"};
  if (!tele.IsMap()) return At(place, "x-tele must be a mapping, e.g. {context: default}");
  if (Status known = RejectUnknownKeys(tele, {"context"}, place); !known.ok()) {
    return known.error();
  }
  const YAML::Node context = tele["context"];
  if (!context) return std::optional<std::string>();
  if (!IsValidContextName(context.Scalar())) {
    return At(place,
              "invalid context '" + context.Scalar() + "': " + std::string(ContextNameRule()));
  }
  return std::optional<std::string>(context.Scalar());
}

// Error when two services engage one workload (the manager allows one engagement each).
Status RejectSharedWorkloads(const ComposeProject& project, const std::string& where) {
  std::map<std::string, std::string> engaged_by;
  for (const ComposeService& service : project.services) {
    if (!service.engagement) continue;
    auto [it, inserted] = engaged_by.emplace(service.engagement->workload, service.name);
    if (!inserted) {
      return CliError{where + ": the services " + it->second + " and " + service.name +
                      " both engage the workload " + it->first +
                      "; a workload has one engagement at a time"};
    }
  }
  return Ok{};
}

}  // namespace

Result<ComposeProject> ParseComposeFile(std::string_view yaml_text, const std::string& file_name) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& error) {
    return CliError{file_name + " is not a YAML file: " + error.what()};
  }
  try {
    ComposeProject project;
    if (!root.IsMap())
      return CliError{file_name + " is not a compose file (no mapping at its top)"};
    if (const YAML::Node tele = root[std::string(kTeleKey)]) {
      Result<std::optional<std::string>> context = ParseTopLevelTele(tele, file_name);
      if (!context.ok()) return context.error();
      project.context_name = context.value();
    }
    const YAML::Node services = root["services"];
    if (services && !services.IsMap()) {
      return CliError{file_name + ": services must be a mapping of service names"};
    }
    for (const auto& entry : services) {
      Result<ComposeService> service = ParseService(entry.first.Scalar(), entry.second, file_name);
      if (!service.ok()) return service.error();
      project.services.push_back(service.value());
    }
    if (Status shared = RejectSharedWorkloads(project, file_name); !shared.ok()) {
      return shared.error();
    }
    return project;
  } catch (const YAML::Exception& error) {  // a scalar where a mapping was expected, ...
    return CliError{file_name + ": cannot read its x-tele parts: " + error.what()};
  }
}

Result<ComposeProject> MergeComposeFiles(const std::vector<ComposeProject>& files) {
  ComposeProject merged;
  for (const ComposeProject& file : files) {
    if (file.context_name) merged.context_name = file.context_name;
    for (const ComposeService& service : file.services) {
      auto same = [&service](const ComposeService& known) { return known.name == service.name; };
      auto known = std::find_if(merged.services.begin(), merged.services.end(), same);
      if (known == merged.services.end()) {
        merged.services.push_back(service);
        continue;
      }
      known->has_networks = known->has_networks || service.has_networks;
      known->has_network_mode = known->has_network_mode || service.has_network_mode;
      if (service.engagement) known->engagement = service.engagement;
    }
  }
  if (Status shared = RejectSharedWorkloads(merged, "the compose files"); !shared.ok()) {
    return shared.error();
  }
  return merged;
}

std::string_view TeleTypeName(const ComposeService& service) {
  if (!service.engagement) return kConnectType;
  return EngagementModeName(service.engagement->mode);
}

}  // namespace tp::cli
