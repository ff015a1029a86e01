#include "cli/docker_network.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace tp::cli {
namespace {

using nlohmann::json;

CliError Malformed(std::string_view what) {
  return CliError{"cannot read docker network inspect's output: " + std::string(what)};
}

// The string at `key`, "" when missing or null; an error for another type.
Result<std::string> StringField(const json& object, std::string_view key) {
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return std::string();
  if (!found->is_string()) return Malformed("'" + std::string(key) + "' is not a string");
  return found->get<std::string>();
}

// The object at `key` as string pairs; empty when missing or null.
Result<std::map<std::string, std::string>> StringMapField(const json& object,
                                                          std::string_view key) {
  std::map<std::string, std::string> values;
  auto found = object.find(key);
  if (found == object.end() || found->is_null()) return values;
  if (!found->is_object()) return Malformed("'" + std::string(key) + "' is not an object");
  for (const auto& [name, value] : found->items()) {
    if (!value.is_string()) return Malformed("'" + std::string(key) + "." + name + "'");
    values[name] = value.get<std::string>();
  }
  return values;
}

Status ReadIpam(const json& object, DockerNetwork& network) {
  auto ipam = object.find("IPAM");
  if (ipam == object.end() || ipam->is_null()) return Ok{};
  if (!ipam->is_object()) return Malformed("'IPAM' is not an object");
  auto config = ipam->find("Config");
  if (config == ipam->end() || config->is_null()) return Ok{};
  if (!config->is_array()) return Malformed("'IPAM.Config' is not a list");
  for (const json& entry : *config) {
    if (!entry.is_object()) return Malformed("an 'IPAM.Config' entry is not an object");
    Result<std::string> subnet = StringField(entry, "Subnet");
    Result<std::string> gateway = StringField(entry, "Gateway");
    if (!subnet.ok()) return subnet.error();
    if (!gateway.ok()) return gateway.error();
    if (!subnet.value().empty()) network.subnets.push_back(subnet.value());
    if (!gateway.value().empty()) network.gateways.push_back(gateway.value());
  }
  return Ok{};
}

Status ReadContainers(const json& object, DockerNetwork& network) {
  auto containers = object.find("Containers");
  if (containers == object.end() || containers->is_null()) return Ok{};
  if (!containers->is_object()) return Malformed("'Containers' is not an object");
  for (const auto& [id, entry] : containers->items()) {
    if (!entry.is_object()) return Malformed("a 'Containers' entry is not an object");
    Result<std::string> name = StringField(entry, "Name");
    Result<std::string> address = StringField(entry, "IPv4Address");
    if (!name.ok()) return name.error();
    if (!address.ok()) return address.error();
    network.containers.push_back({id, name.value(), address.value()});
  }
  std::sort(network.containers.begin(), network.containers.end(),
            [](const NetworkContainer& a, const NetworkContainer& b) { return a.name < b.name; });
  return Ok{};
}

Result<DockerNetwork> ReadNetwork(const json& object) {
  if (!object.is_object()) return Malformed("an entry is not an object");
  DockerNetwork network;
  for (auto [key, target] : {std::pair{"Name", &network.name}, std::pair{"Id", &network.id},
                             std::pair{"Driver", &network.driver}}) {
    Result<std::string> value = StringField(object, key);
    if (!value.ok()) return value.error();
    *target = value.value();
  }
  Result<std::map<std::string, std::string>> options = StringMapField(object, "Options");
  if (!options.ok()) return options.error();
  network.options = options.value();
  Result<std::map<std::string, std::string>> labels = StringMapField(object, "Labels");
  if (!labels.ok()) return labels.error();
  network.labels = labels.value();
  if (Status ipam = ReadIpam(object, network); !ipam.ok()) return ipam.error();
  if (Status containers = ReadContainers(object, network); !containers.ok()) {
    return containers.error();
  }
  return network;
}

}  // namespace

Result<std::vector<DockerNetwork>> ParseNetworkInspect(std::string_view output) {
  json parsed = json::parse(output, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return Malformed("not JSON");
  if (!parsed.is_array()) return Malformed("not a list");
  std::vector<DockerNetwork> networks;
  for (const json& entry : parsed) {
    Result<DockerNetwork> network = ReadNetwork(entry);
    if (!network.ok()) return network.error();
    networks.push_back(std::move(network).value());
  }
  return networks;
}

std::optional<Ipv4Address> DefaultBridgeGateway(const DockerNetwork& bridge,
                                                const InterfaceAddressLookup& interface_address) {
  for (const std::string& gateway : bridge.gateways) {
    if (std::optional<Ipv4Address> address = ParseIpv4Address(gateway)) return address;
  }
  std::optional<Ipv4Prefix> subnet;
  for (const std::string& text : bridge.subnets) {
    subnet = ParseIpv4Prefix(text);
    if (subnet) break;
  }
  if (!subnet) return std::nullopt;
  auto name = bridge.options.find("com.docker.network.bridge.name");
  const std::string interface =
      name != bridge.options.end() && !name->second.empty() ? name->second : "docker0";
  std::optional<Ipv4Prefix> interface_prefix = interface_address(interface);
  if (interface_prefix && subnet->Network().Contains(interface_prefix->address)) {
    return interface_prefix->address;
  }
  return Ipv4Address{subnet->Network().address.value + 1};
}

}  // namespace tp::cli
