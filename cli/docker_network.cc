#include "cli/docker_network.h"

namespace tp::cli {
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

std::optional<std::string> ContainerAddressIn(const DockerNetwork& network,
                                              const std::string& container) {
  for (const NetworkContainer& endpoint : network.containers) {
    const bool same = endpoint.name == container || endpoint.id == container;
    if (same && !endpoint.ipv4_address.empty()) {
      return endpoint.ipv4_address.substr(0, endpoint.ipv4_address.find('/'));
    }
  }
  return std::nullopt;
}

}  // namespace tp::cli
