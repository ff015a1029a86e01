#include "docker_engine/engine_types.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tp::docker {
namespace {

using nlohmann::json;

// Thrown inside this file only, turned into an EngineError by Decode().
struct Malformed {
  std::string what;
};

const json* Find(const json& object, std::string_view key) {
  if (!object.is_object()) throw Malformed{"not an object where '" + std::string(key) + "' is"};
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

std::string String(const json& object, std::string_view key) {
  const json* value = Find(object, key);
  if (value == nullptr) return "";
  if (!value->is_string()) throw Malformed{"'" + std::string(key) + "' is not a string"};
  return value->get<std::string>();
}

std::map<std::string, std::string> StringMap(const json& object, std::string_view key) {
  std::map<std::string, std::string> values;
  const json* found = Find(object, key);
  if (found == nullptr) return values;
  if (!found->is_object()) throw Malformed{"'" + std::string(key) + "' is not an object"};
  for (const auto& [name, value] : found->items()) {
    if (!value.is_string()) throw Malformed{"'" + std::string(key) + "." + name + "'"};
    values[name] = value.get<std::string>();
  }
  return values;
}

std::vector<std::string> StringList(const json& object, std::string_view key) {
  std::vector<std::string> values;
  const json* found = Find(object, key);
  if (found == nullptr) return values;
  if (!found->is_array()) throw Malformed{"'" + std::string(key) + "' is not a list"};
  for (const json& value : *found) {
    if (!value.is_string()) throw Malformed{"an entry of '" + std::string(key) + "'"};
    values.push_back(value.get<std::string>());
  }
  return values;
}

const json& Object(const json& object, std::string_view key) {
  static const json kEmpty = json::object();
  const json* found = Find(object, key);
  if (found == nullptr) return kEmpty;
  if (!found->is_object()) throw Malformed{"'" + std::string(key) + "' is not an object"};
  return *found;
}

const json& Array(const json& value, std::string_view what) {
  if (!value.is_array()) throw Malformed{std::string(what) + " is not a list"};
  return value;
}

// Parses `body` and applies `read`; a kProtocol error naming `what` when either fails.
template <typename Read>
auto Decode(std::string_view body, std::string_view what, Read read)
    -> EngineResult<decltype(read(json()))> {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    return EngineError{EngineErrorKind::kProtocol, 0,
                       "cannot read the Docker engine's " + std::string(what) + ": not JSON"};
  }
  try {
    return read(parsed);
  } catch (const Malformed& malformed) {
    return EngineError{
        EngineErrorKind::kProtocol, 0,
        "cannot read the Docker engine's " + std::string(what) + ": " + malformed.what};
  } catch (const json::exception& error) {
    return EngineError{
        EngineErrorKind::kProtocol, 0,
        "cannot read the Docker engine's " + std::string(what) + ": " + error.what()};
  }
}

std::string WithoutSlash(std::string name) {
  if (name.starts_with('/')) name.erase(0, 1);
  return name;
}

std::vector<PortBinding> ReadPorts(const json& settings) {
  std::vector<PortBinding> ports;
  const json& port_map = Object(settings, "Ports");
  for (const auto& [container_port, bindings] : port_map.items()) {
    if (bindings.is_null()) continue;
    for (const json& binding : Array(bindings, "'Ports." + container_port + "'")) {
      ports.push_back({container_port, String(binding, "HostIp"), String(binding, "HostPort")});
    }
  }
  return ports;
}

std::map<std::string, std::string> ReadNetworkAddresses(const json& settings) {
  std::map<std::string, std::string> addresses;
  for (const auto& [network, endpoint] : Object(settings, "Networks").items()) {
    addresses[network] = String(endpoint, "IPAddress");
  }
  return addresses;
}

ContainerInfo ReadContainer(const json& object) {
  ContainerInfo info{.id = String(object, "Id"), .name = WithoutSlash(String(object, "Name"))};
  const json& state = Object(object, "State");
  info.state = String(state, "Status");
  if (const json* code = Find(state, "ExitCode")) info.exit_code = code->get<int>();
  const json& config = Object(object, "Config");
  info.image = String(config, "Image");
  info.env = StringList(config, "Env");
  info.labels = StringMap(config, "Labels");
  const json& settings = Object(object, "NetworkSettings");
  info.published_ports = ReadPorts(settings);
  info.network_ipv4 = ReadNetworkAddresses(settings);
  return info;
}

ContainerSummary ReadContainerSummary(const json& object) {
  std::vector<std::string> names = StringList(object, "Names");
  return {.id = String(object, "Id"),
          .name = names.empty() ? "" : WithoutSlash(names.front()),
          .state = String(object, "State"),
          .image = String(object, "Image"),
          .labels = StringMap(object, "Labels")};
}

void ReadIpam(const json& object, NetworkInfo& network) {
  const json* config = Find(Object(object, "IPAM"), "Config");
  if (config == nullptr) return;
  for (const json& entry : Array(*config, "'IPAM.Config'")) {
    std::string subnet = String(entry, "Subnet");
    std::string gateway = String(entry, "Gateway");
    if (!subnet.empty()) network.subnets.push_back(subnet);
    if (!gateway.empty()) network.gateways.push_back(gateway);
  }
}

NetworkInfo ReadNetwork(const json& object) {
  NetworkInfo network{.name = String(object, "Name"),
                      .id = String(object, "Id"),
                      .driver = String(object, "Driver"),
                      .options = StringMap(object, "Options"),
                      .labels = StringMap(object, "Labels")};
  ReadIpam(object, network);
  for (const auto& [id, entry] : Object(object, "Containers").items()) {
    network.containers.push_back({id, String(entry, "Name"), String(entry, "IPv4Address")});
  }
  std::sort(network.containers.begin(), network.containers.end(),
            [](const NetworkEndpoint& a, const NetworkEndpoint& b) { return a.name < b.name; });
  return network;
}

std::string PluginVersion(const json& config) {
  const json* env = Find(config, "Env");
  if (env == nullptr || !env->is_array()) return "";
  for (const json& entry : *env) {
    if (entry.is_object() && String(entry, "Name") == kPluginVersionEnv) {
      return String(entry, "Value");
    }
  }
  return "";
}

PluginInfo ReadPlugin(const json& object) {
  const json* enabled = Find(object, "Enabled");
  const json* config = Find(object, "Config");
  return {.name = String(object, "Name"),
          .enabled = enabled != nullptr && enabled->get<bool>(),
          .version = config != nullptr && config->is_object() ? PluginVersion(*config) : "",
          .reference = String(object, "PluginReference")};
}

json StringMapJson(const std::map<std::string, std::string>& values) {
  json object = json::object();
  for (const auto& [key, value] : values) object[key] = value;
  return object;
}

json HostConfig(const ContainerSpec& spec) {
  json host{{"AutoRemove", spec.auto_remove}};
  if (!spec.cap_add.empty()) host["CapAdd"] = spec.cap_add;
  if (!spec.sysctls.empty()) host["Sysctls"] = StringMapJson(spec.sysctls);
  if (!spec.binds.empty()) {
    json binds = json::array();
    for (const BindMount& bind : spec.binds) {
      binds.push_back(bind.source + ":" + bind.target + (bind.read_only ? ":ro" : ""));
    }
    host["Binds"] = binds;
  }
  if (!spec.devices.empty()) {
    json devices = json::array();
    for (const std::string& device : spec.devices) {
      devices.push_back(
          {{"PathOnHost", device}, {"PathInContainer", device}, {"CgroupPermissions", "rwm"}});
    }
    host["Devices"] = devices;
  }
  json bindings = json::object();
  for (const PortBinding& port : spec.ports) {
    bindings[port.container_port].push_back(
        {{"HostIp", port.host_ip}, {"HostPort", port.host_port}});
  }
  if (!bindings.empty()) host["PortBindings"] = bindings;
  if (!spec.network_mode.empty()) host["NetworkMode"] = spec.network_mode;
  if (!spec.restart_policy.empty()) host["RestartPolicy"] = {{"Name", spec.restart_policy}};
  if (!spec.dns.empty()) host["Dns"] = spec.dns;
  if (spec.init) host["Init"] = true;
  return host;
}

}  // namespace

std::string EncodeFilters(const Filters& filters) {
  json object = json::object();
  for (const auto& [key, values] : filters) object[key] = values;
  return object.dump();
}

std::string EncodeContainerCreate(const ContainerSpec& spec) {
  json body{{"Image", spec.image}, {"Env", spec.env}, {"Labels", StringMapJson(spec.labels)}};
  if (spec.entrypoint) body["Entrypoint"] = *spec.entrypoint;
  if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;
  json exposed = json::object();
  for (const PortBinding& port : spec.ports) exposed[port.container_port] = json::object();
  if (!exposed.empty()) body["ExposedPorts"] = exposed;
  body["HostConfig"] = HostConfig(spec);
  return body.dump();
}

EngineResult<ContainerInfo> DecodeContainerInspect(std::string_view body) {
  return Decode(body, "container inspect", ReadContainer);
}

EngineResult<std::vector<ContainerSummary>> DecodeContainerList(std::string_view body) {
  return Decode(body, "container list", [](const json& list) {
    std::vector<ContainerSummary> containers;
    for (const json& entry : Array(list, "the container list")) {
      containers.push_back(ReadContainerSummary(entry));
    }
    return containers;
  });
}

EngineResult<NetworkInfo> DecodeNetwork(std::string_view body) {
  return Decode(body, "network inspect", ReadNetwork);
}

EngineResult<std::vector<NetworkInfo>> DecodeNetworkList(std::string_view body) {
  return Decode(body, "network list", [](const json& list) {
    std::vector<NetworkInfo> networks;
    for (const json& entry : Array(list, "the network list"))
      networks.push_back(ReadNetwork(entry));
    return networks;
  });
}

std::string EncodeNetworkCreate(const NetworkSpec& spec) {
  json pools = json::array();
  for (const IpamPool& pool : spec.pools) {
    json config{{"Subnet", pool.subnet}};
    if (!pool.gateway.empty()) config["Gateway"] = pool.gateway;
    if (!pool.ip_range.empty()) config["IPRange"] = pool.ip_range;
    if (!pool.aux_addresses.empty())
      config["AuxiliaryAddresses"] = StringMapJson(pool.aux_addresses);
    pools.push_back(config);
  }
  json body{{"Name", spec.name},
            {"CheckDuplicate", true},
            {"Options", StringMapJson(spec.options)},
            {"Labels", StringMapJson(spec.labels)}};
  if (!spec.driver.empty()) body["Driver"] = spec.driver;
  if (spec.enable_ipv6) body["EnableIPv6"] = true;
  if (!pools.empty()) body["IPAM"] = {{"Driver", "default"}, {"Config", pools}};
  return body.dump();
}

std::string EncodeVolumeCreate(const VolumeSpec& spec) {
  json body{{"Name", spec.name},
            {"DriverOpts", StringMapJson(spec.driver_options)},
            {"Labels", StringMapJson(spec.labels)}};
  if (!spec.driver.empty()) body["Driver"] = spec.driver;
  return body.dump();
}

EngineResult<std::vector<VolumeInfo>> DecodeVolumeList(std::string_view body) {
  return Decode(body, "volume list", [](const json& object) {
    std::vector<VolumeInfo> volumes;
    const json* list = Find(object, "Volumes");
    if (list == nullptr) return volumes;
    for (const json& entry : Array(*list, "'Volumes'")) {
      volumes.push_back({.name = String(entry, "Name"),
                         .driver = String(entry, "Driver"),
                         .labels = StringMap(entry, "Labels")});
    }
    return volumes;
  });
}

EngineResult<PluginInfo> DecodePlugin(std::string_view body) {
  return Decode(body, "plugin inspect", ReadPlugin);
}

EngineResult<std::vector<PluginInfo>> DecodePluginList(std::string_view body) {
  return Decode(body, "plugin list", [](const json& list) {
    std::vector<PluginInfo> plugins;
    for (const json& entry : Array(list, "the plugin list")) plugins.push_back(ReadPlugin(entry));
    return plugins;
  });
}

EngineResult<std::vector<PluginPrivilege>> DecodePluginPrivileges(std::string_view body) {
  return Decode(body, "plugin privileges", [](const json& list) {
    std::vector<PluginPrivilege> privileges;
    for (const json& entry : Array(list, "the privileges")) {
      privileges.push_back({.name = String(entry, "Name"),
                            .description = String(entry, "Description"),
                            .values = StringList(entry, "Value")});
    }
    return privileges;
  });
}

std::string EncodePluginPrivileges(const std::vector<PluginPrivilege>& privileges) {
  json list = json::array();
  for (const PluginPrivilege& privilege : privileges) {
    list.push_back({{"Name", privilege.name},
                    {"Description", privilege.description},
                    {"Value", privilege.values}});
  }
  return list.dump();
}

EngineResult<std::monostate> DecodePluginProgress(std::string_view body, std::string_view what) {
  size_t start = 0;
  while (start < body.size()) {
    size_t end = body.find('\n', start);
    if (end == std::string_view::npos) end = body.size();
    const std::string_view line = body.substr(start, end - start);
    start = end + 1;
    const json message = json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!message.is_object()) continue;
    const json* error = Find(message, "error");
    if (error != nullptr && error->is_string()) {
      return EngineError{EngineErrorKind::kRejected, 0,
                         "Docker cannot " + std::string(what) + ": " + error->get<std::string>()};
    }
  }
  return std::monostate{};
}

EngineResult<ImageInfo> DecodeImageInspect(std::string_view body) {
  return Decode(body, "image inspect", [](const json& object) {
    return ImageInfo{.id = String(object, "Id"),
                     .tags = StringList(object, "RepoTags"),
                     .labels = StringMap(Object(object, "Config"), "Labels")};
  });
}

EngineResult<std::vector<std::string>> DecodeImageListTags(std::string_view body) {
  return Decode(body, "image list", [](const json& list) {
    std::vector<std::string> tags;
    for (const json& entry : Array(list, "the image list")) {
      for (std::string& tag : StringList(entry, "RepoTags")) {
        if (tag != "<none>:<none>") tags.push_back(std::move(tag));
      }
    }
    std::sort(tags.begin(), tags.end());
    tags.erase(std::unique(tags.begin(), tags.end()), tags.end());
    return tags;
  });
}

EngineResult<EngineEvent> DecodeEvent(std::string_view line) {
  return Decode(line, "event", [](const json& object) {
    const json& actor = Object(object, "Actor");
    EngineEvent event{.type = String(object, "Type"),
                      .action = String(object, "Action"),
                      .actor_id = String(actor, "ID"),
                      .attributes = StringMap(actor, "Attributes")};
    if (const json* time = Find(object, "timeNano")) event.time_nano = time->get<int64_t>();
    return event;
  });
}

std::string DecodeErrorMessage(std::string_view body) {
  json parsed = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string()) {
    return parsed["message"].get<std::string>();
  }
  std::string text(body);
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

std::vector<std::string> LineSplitter::Feed(std::string_view bytes) {
  pending_.append(bytes);
  std::vector<std::string> lines;
  size_t start = 0;
  for (size_t end = pending_.find('\n'); end != std::string::npos;
       end = pending_.find('\n', start)) {
    lines.push_back(pending_.substr(start, end - start));
    start = end + 1;
  }
  pending_.erase(0, start);
  return lines;
}

std::vector<LogDemuxer::Frame> LogDemuxer::Feed(std::string_view bytes) {
  constexpr size_t kHeaderSize = 8;
  pending_.append(bytes);
  std::vector<Frame> frames;
  size_t offset = 0;
  while (pending_.size() - offset >= kHeaderSize) {
    const auto* header = reinterpret_cast<const unsigned char*>(pending_.data() + offset);
    size_t length = (size_t{header[4]} << 24) | (size_t{header[5]} << 16) |
                    (size_t{header[6]} << 8) | size_t{header[7]};
    if (pending_.size() - offset - kHeaderSize < length) break;
    frames.push_back({static_cast<Stream>(header[0] <= 2 ? header[0] : 1),
                      pending_.substr(offset + kHeaderSize, length)});
    offset += kHeaderSize + length;
  }
  pending_.erase(0, offset);
  return frames;
}

}  // namespace tp::docker
