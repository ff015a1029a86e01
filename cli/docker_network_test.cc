#include "cli/docker_network.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

// The shape of docker 20.10's `docker network inspect` output.
constexpr char kInspect[] = R"([
  {"Name":"tp-default","Id":"abc","Driver":"teleroute:latest","Scope":"local",
   "IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.200.0.0/24",
           "Gateway":"10.200.0.1"}]},
   "Containers":{"c2":{"Name":"web","EndpointID":"e","MacAddress":"m","IPv4Address":"10.200.0.3/24",
                      "IPv6Address":""},
                 "c1":{"Name":"tp-default-cn","IPv4Address":"10.200.0.2/24"}},
   "Options":{"daemon":"10.200.0.2","control":"8787"},
   "Labels":{"telepresence.context":"default"}},
  {"Name":"none","Id":"def","Driver":"null","IPAM":{"Config":null},"Containers":{},
   "Options":null,"Labels":null}
])";

TEST(DecodeNetworkListTest, ReadsWhatTheCliUses) {
  docker::EngineResult<std::vector<DockerNetwork>> parsed = docker::DecodeNetworkList(kInspect);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  ASSERT_EQ(parsed.value().size(), 2u);
  const DockerNetwork& network = parsed.value()[0];
  EXPECT_EQ(network.name, "tp-default");
  EXPECT_EQ(network.driver, "teleroute:latest");
  EXPECT_EQ(network.subnets, std::vector<std::string>{"10.200.0.0/24"});
  EXPECT_EQ(network.gateways, std::vector<std::string>{"10.200.0.1"});
  EXPECT_EQ(network.options.at("daemon"), "10.200.0.2");
  EXPECT_EQ(network.labels.at("telepresence.context"), "default");
  ASSERT_EQ(network.containers.size(), 2u);
  EXPECT_EQ(network.containers[0].name, "tp-default-cn");
  EXPECT_EQ(network.containers[0].id, "c1");
  EXPECT_EQ(network.containers[1].ipv4_address, "10.200.0.3/24");
  EXPECT_TRUE(parsed.value()[1].subnets.empty());
  EXPECT_TRUE(parsed.value()[1].containers.empty());
}

TEST(DecodeNetworkListTest, EmptyAndMalformed) {
  EXPECT_TRUE(docker::DecodeNetworkList("[]\n").value().empty());
  for (const char* bad : {"", "{}", "[1]", R"([{"Name":3}])", R"([{"IPAM":{"Config":{}}}])",
                          R"([{"Options":{"a":1}}])", R"([{"Containers":[]}])"}) {
    docker::EngineResult<std::vector<DockerNetwork>> parsed = docker::DecodeNetworkList(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().kind, docker::EngineErrorKind::kProtocol);
  }
}

// What `docker network inspect bridge` shows on an engine's first start: no Gateway.
constexpr char kFirstStartBridge[] = R"([
  {"Name":"bridge","Id":"b","Driver":"bridge","IPAM":{"Driver":"default","Options":null,
   "Config":[{"Subnet":"172.17.0.0/16"}]},"Containers":{},
   "Options":{"com.docker.network.bridge.name":"docker0"},"Labels":{}}
])";

DockerNetwork ParseOne(std::string_view text) {
  docker::EngineResult<std::vector<DockerNetwork>> parsed = docker::DecodeNetworkList(text);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  return parsed.ok() && !parsed.value().empty() ? parsed.value()[0] : DockerNetwork{};
}

InterfaceAddressLookup Interfaces(std::map<std::string, std::string> addresses) {
  return [addresses](const std::string& name) -> std::optional<Ipv4Prefix> {
    auto found = addresses.find(name);
    if (found == addresses.end()) return std::nullopt;
    return ParseIpv4Prefix(found->second);
  };
}

std::string GatewayText(const DockerNetwork& bridge, const InterfaceAddressLookup& lookup) {
  std::optional<Ipv4Address> gateway = DefaultBridgeGateway(bridge, lookup);
  return gateway ? gateway->ToString() : "none";
}

TEST(DefaultBridgeGatewayTest, TakesIpamsGatewayWhenGiven) {
  DockerNetwork bridge{.subnets = {"172.18.0.0/16"}, .gateways = {"172.18.0.9"}};
  EXPECT_EQ(GatewayText(bridge, Interfaces({{"docker0", "172.18.0.1/16"}})), "172.18.0.9");
}

TEST(DefaultBridgeGatewayTest, OnAFirstStartTakesTheBridgeInterfacesAddress) {
  DockerNetwork bridge = ParseOne(kFirstStartBridge);
  EXPECT_TRUE(bridge.gateways.empty());
  EXPECT_EQ(GatewayText(bridge, Interfaces({{"docker0", "172.17.0.7/16"}})), "172.17.0.7");
}

TEST(DefaultBridgeGatewayTest, UsesTheInterfaceNamedByTheDriverOption) {
  DockerNetwork bridge{.subnets = {"10.55.0.0/24"},
                       .options = {{"com.docker.network.bridge.name", "tp-test-br"}}};
  EXPECT_EQ(GatewayText(bridge,
                        Interfaces({{"docker0", "10.55.0.99/24"}, {"tp-test-br", "10.55.0.5/24"}})),
            "10.55.0.5");
}

TEST(DefaultBridgeGatewayTest, WithoutTheInterfaceTakesTheSubnetsFirstAddress) {
  DockerNetwork bridge = ParseOne(kFirstStartBridge);
  EXPECT_EQ(GatewayText(bridge, Interfaces({})), "172.17.0.1");
  // Another engine's docker0 (a remote engine's bridge is not visible here) is not taken.
  EXPECT_EQ(GatewayText(bridge, Interfaces({{"docker0", "192.168.5.1/24"}})), "172.17.0.1");
}

TEST(DefaultBridgeGatewayTest, SkipsIpv6AndHasNoneWithoutAnIpv4Subnet) {
  DockerNetwork dual{.subnets = {"fd00::/64", "172.19.0.0/16"}};
  EXPECT_EQ(GatewayText(dual, Interfaces({})), "172.19.0.1");
  EXPECT_EQ(GatewayText(DockerNetwork{.subnets = {"fd00::/64"}}, Interfaces({})), "none");
  EXPECT_EQ(GatewayText(DockerNetwork{}, Interfaces({})), "none");
}

TEST(ContainerAddressInTest, ByNameOrIdWithoutThePrefixLength) {
  DockerNetwork network{
      .containers = {{"h-id", "handler", "10.200.0.130/24"}, {"c-id", "creating", ""}}};
  EXPECT_EQ(ContainerAddressIn(network, "handler"), "10.200.0.130");
  EXPECT_EQ(ContainerAddressIn(network, "h-id"), "10.200.0.130");
  EXPECT_EQ(ContainerAddressIn(network, "creating"), std::nullopt);
  EXPECT_EQ(ContainerAddressIn(network, "other"), std::nullopt);
}

}  // namespace
}  // namespace tp::cli
