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

TEST(ParseNetworkInspectTest, ReadsWhatTheCliUses) {
  Result<std::vector<DockerNetwork>> parsed = ParseNetworkInspect(kInspect);
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

TEST(ParseNetworkInspectTest, EmptyAndMalformed) {
  EXPECT_TRUE(ParseNetworkInspect("[]\n").value().empty());
  for (const char* bad : {"", "{}", "[1]", R"([{"Name":3}])", R"([{"IPAM":{"Config":{}}}])",
                          R"([{"Options":{"a":1}}])", R"([{"Containers":[]}])"}) {
    Result<std::vector<DockerNetwork>> parsed = ParseNetworkInspect(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.error().message.find("docker network inspect"), std::string::npos);
  }
}

}  // namespace
}  // namespace tp::cli
