#include "cli/teleroute_network.h"

#include <gtest/gtest.h>

#include "cli/test_fakes.h"

namespace tp::cli {
namespace {

using testing::FakeDocker;

#define EXPECT_CONTAINS(text, part) EXPECT_NE((text).find(part), std::string::npos) << (text)

Ipv4Prefix Prefix(std::string_view text) { return ParseIpv4Prefix(text).value(); }

std::string ChosenOrError(const std::optional<Ipv4Prefix>& requested,
                          const std::vector<TakenSubnet>& taken) {
  Result<Ipv4Prefix> chosen = ChooseSubnet(requested, taken);
  return chosen.ok() ? chosen.value().ToString() : chosen.error().message;
}

TEST(ParseDockerSubnetTest, AcceptsIpv4NetworksFrom16To29) {
  EXPECT_EQ(ParseDockerSubnet("10.200.0.0/24").value().ToString(), "10.200.0.0/24");
  EXPECT_EQ(ParseDockerSubnet("192.168.0.0/16").value().ToString(), "192.168.0.0/16");
  EXPECT_EQ(ParseDockerSubnet("10.1.2.8/29").value().ToString(), "10.1.2.8/29");
}

TEST(ParseDockerSubnetTest, RejectsWithASentence) {
  for (const char* bad : {"10.200.0.1/24", "10.200.0.0", "10.200.0.0/33", "fd00::/64", "", "x/24",
                          "10.200.0.0/024"}) {
    Result<Ipv4Prefix> parsed = ParseDockerSubnet(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_CONTAINS(parsed.error().message, "invalid --docker-subnet '" + std::string(bad) + "'");
    EXPECT_CONTAINS(parsed.error().message, "such as 10.200.0.0/24");
  }
  EXPECT_CONTAINS(ParseDockerSubnet("10.200.0.1/24").error().message, "10.200.0.0/24");
  EXPECT_CONTAINS(ParseDockerSubnet("10.0.0.0/15").error().message, "from 16 to 29");
  EXPECT_CONTAINS(ParseDockerSubnet("10.0.0.0/30").error().message, "from 16 to 29");
}

TEST(TakenSubnetsTest, ClusterAndDockerNetworksExceptTheOneToReplace) {
  std::vector<DockerNetwork> networks{{.name = "bridge", .subnets = {"172.17.0.0/16"}},
                                      {.name = "dual", .subnets = {"fd00::/64", "10.9.0.0/24"}},
                                      {.name = "tp-default", .subnets = {"10.200.0.0/24"}},
                                      {.name = "none"}};
  std::vector<TakenSubnet> taken =
      TakenSubnets({"10.213.0.0/24", "10.96.0.1/12", "not a subnet"}, networks, "tp-default");
  ASSERT_EQ(taken.size(), 4u);
  EXPECT_EQ(taken[0].owner, "the cluster subnet 10.213.0.0/24");
  EXPECT_EQ(taken[1].subnet, Prefix("10.96.0.0/12"));
  EXPECT_EQ(taken[2].owner, "the Docker network bridge (172.17.0.0/16)");
  EXPECT_EQ(taken[3].owner, "the Docker network dual (10.9.0.0/24)");
}

TEST(ChooseSubnetTest, FirstFree24FromTheAutomaticRange) {
  EXPECT_EQ(ChosenOrError(std::nullopt, {}), "10.200.0.0/24");
  EXPECT_EQ(
      ChosenOrError(std::nullopt, {{Prefix("10.200.0.0/23"), "a"}, {Prefix("10.200.2.7/32"), "b"}}),
      "10.200.3.0/24");
  EXPECT_EQ(ChosenOrError(std::nullopt, {{Prefix("10.200.0.0/16"), "a"}}), "10.201.0.0/24");
  // A taken network that contains the whole range.
  EXPECT_EQ(ChosenOrError(std::nullopt, {{Prefix("10.192.0.0/11"), "a"}}), "10.224.0.0/24");
  std::string none = ChosenOrError(std::nullopt, {{Prefix("10.0.0.0/8"), "the cluster subnet"}});
  EXPECT_CONTAINS(none, "no free /24 for the Teleroute network in 10.200.0.0/16 to 10.255.0.0/16");
  EXPECT_CONTAINS(none, "--docker-subnet CIDR");
}

TEST(ChooseSubnetTest, RequestedSubnetMustNotOverlapAnything) {
  std::vector<TakenSubnet> taken{{Prefix("10.213.0.0/24"), "the cluster subnet 10.213.0.0/24"},
                                 {Prefix("172.17.0.0/16"), "the Docker network bridge"}};
  EXPECT_EQ(ChosenOrError(Prefix("10.214.0.0/16"), taken), "10.214.0.0/16");
  EXPECT_CONTAINS(ChosenOrError(Prefix("10.213.0.0/16"), taken),
                  "--docker-subnet 10.213.0.0/16 overlaps the cluster subnet 10.213.0.0/24");
  EXPECT_CONTAINS(ChosenOrError(Prefix("172.17.3.0/24"), taken),
                  "--docker-subnet 172.17.3.0/24 overlaps the Docker network bridge");
}

TEST(PlanTelerouteNetworkTest, GatewayFirstDaemonSecondAndTheCreateCommand) {
  TelerouteNetworkSpec spec = PlanTelerouteNetwork("dev", Prefix("10.50.8.0/21"),
                                                   {"10.96.0.0/12", "fd00::/8", "10.0.0.1/8"});
  EXPECT_EQ(spec.name, "tp-dev");
  EXPECT_EQ(spec.gateway.ToString(), "10.50.8.1");
  EXPECT_EQ(spec.daemon.ToString(), "10.50.8.2");
  EXPECT_EQ(spec.cluster_subnets, std::vector<Ipv4Prefix>{Prefix("10.96.0.0/12")});
  docker::NetworkSpec create = NetworkCreateSpec(spec);
  EXPECT_EQ(create.name, "tp-dev");
  EXPECT_EQ(create.driver, "teleroute:latest");
  ASSERT_EQ(create.pools.size(), 1u);
  EXPECT_EQ(create.pools[0].subnet, "10.50.8.0/21");
  EXPECT_EQ(create.pools[0].gateway, "10.50.8.1");
  EXPECT_EQ(create.pools[0].ip_range, "10.50.12.0/22");
  EXPECT_EQ(
      create.options,
      (std::map<std::string, std::string>{
          {"daemon", "10.50.8.2"}, {"subnets", "10.96.0.0/12,fd00::/8"}, {"control", "8787"}}));
  EXPECT_FALSE(create.enable_ipv6) << "no IPv6 half was planned";
  EXPECT_EQ(create.labels, (docker::Labels{{"telepresence.context", "dev"},
                                           {"telepresence.docker_gwbridge", "preexisting"}}));
  spec.cluster_subnets.clear();
  spec.cluster_subnets6.clear();
  spec.gateway_bridge_existed = false;
  create = NetworkCreateSpec(spec);
  EXPECT_FALSE(create.options.contains("subnets"));
  EXPECT_EQ(create.labels.at("telepresence.docker_gwbridge"), "ours");
}

// A dual-stack cluster gets a dual-stack network: the first free /64 of fd74:656c:6570::/48, its
// ::1 the gateway, ::2 the daemon, the upper half for containers.
TEST(PlanTelerouteNetworkTest, ADualStackClusterGetsAnIpv6HalfThatOverlapsNothing) {
  EXPECT_FALSE(PlanIpv6Half({"10.96.0.0/12"}, {})) << "an IPv4-only cluster";
  const std::vector<DockerNetwork> networks = {
      {.name = "taken", .subnets = {"10.1.0.0/24", "fd74:656c:6570::/64"}},
      {.name = "tp-dev", .subnets = {"fd74:656c:6570:1::/64"}}};  // the one being replaced
  const std::vector<std::string> cluster = {"10.96.0.0/12", "fd74:656c:6570:2::/112"};
  const std::optional<TelerouteIpv6Spec> half =
      PlanIpv6Half(cluster, TakenIpv6Subnets(cluster, networks, "tp-dev"));
  ASSERT_TRUE(half);
  EXPECT_EQ(half->subnet.ToString(), "fd74:656c:6570:1::/112");
  EXPECT_EQ(half->gateway.ToString(), "fd74:656c:6570:1::1");
  EXPECT_EQ(half->daemon.ToString(), "fd74:656c:6570:1::2");
  EXPECT_EQ(half->container_range.ToString(), "fd74:656c:6570:1::8000/113");
  const std::optional<TelerouteIpv6Spec> next =
      PlanIpv6Half(cluster, TakenIpv6Subnets(cluster, networks, ""));
  ASSERT_TRUE(next);
  EXPECT_EQ(next->subnet.ToString(), "fd74:656c:6570:3::/112") << "2 has a cluster subnet in it";
  EXPECT_FALSE(PlanIpv6Half(cluster, {*ParseIpv6Prefix("fd74:656c::/32")})) << "all taken";

  TelerouteNetworkSpec spec = PlanTelerouteNetwork("dev", Prefix("10.50.8.0/24"), cluster);
  spec.ipv6 = half;
  docker::NetworkSpec create = NetworkCreateSpec(spec);
  EXPECT_TRUE(create.enable_ipv6);
  ASSERT_EQ(create.pools.size(), 2u);
  EXPECT_EQ(create.pools[1].subnet, "fd74:656c:6570:1::/112");
  EXPECT_EQ(create.pools[1].gateway, "fd74:656c:6570:1::1");
  EXPECT_EQ(create.pools[1].ip_range, "fd74:656c:6570:1::8000/113");
  EXPECT_EQ(create.options.at("daemon6"), "fd74:656c:6570:1::2");
  EXPECT_EQ(create.options.at("subnets"), "10.96.0.0/12,fd74:656c:6570:2::/112");
}

TEST(DescribeTelerouteNetworkTest, DaemonFromTheOptionElseItsEndpoint) {
  DockerNetwork network{.name = "tp-dev",
                        .subnets = {"fd00::/64", "10.200.0.0/24"},
                        .options = {{"daemon", "10.200.0.2"}},
                        .containers = {{"1", "tp-dev-cn", "10.200.0.9/24"}}};
  TelerouteNetworkInfo info = DescribeTelerouteNetwork(network, "tp-dev-cn");
  EXPECT_EQ(info.subnet, "10.200.0.0/24");
  EXPECT_EQ(info.daemon_address, "10.200.0.2");
  EXPECT_TRUE(info.daemon_attached);
  EXPECT_EQ(info.subnet6, "fd00::/64");
  EXPECT_EQ(FormatTelerouteNetwork(info),
            "tp-dev (10.200.0.0/24 and fd00::/64, daemon 10.200.0.2)");
  network.options.clear();
  EXPECT_EQ(DescribeTelerouteNetwork(network, "tp-dev-cn").daemon_address, "10.200.0.9");
  network.containers.clear();
  info = DescribeTelerouteNetwork(network, "tp-dev-cn");
  EXPECT_FALSE(info.daemon_attached);
  EXPECT_EQ(FormatTelerouteNetwork(info),
            "tp-dev (10.200.0.0/24 and fd00::/64, daemon unknown not attached)");
  network.subnets = {"10.200.0.0/24"};
  EXPECT_EQ(FormatTelerouteNetwork(DescribeTelerouteNetwork(network, "tp-dev-cn")),
            "tp-dev (10.200.0.0/24, daemon unknown not attached)");
}

TEST(RemoveTelerouteNetworkTest, DisconnectsEveryContainerThenRemoves) {
  FakeDocker docker;
  docker.networks["tp-dev"] = {.name = "tp-dev",
                               .subnets = {"10.200.0.0/24"},
                               .containers = {{"a-id", "a", ""}, {"b-id", "b", ""}}};
  Result<std::vector<std::string>> disconnected = RemoveTelerouteNetwork(docker, "tp-dev");
  ASSERT_TRUE(disconnected.ok()) << disconnected.error().message;
  EXPECT_EQ(disconnected.value(), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(docker.network_disconnects.size(), 2u);
  EXPECT_EQ(docker.removed, std::vector<std::string>{"tp-dev"});
  disconnected = RemoveTelerouteNetwork(docker, "tp-dev");
  ASSERT_TRUE(disconnected.ok());
  EXPECT_TRUE(disconnected.value().empty());
  EXPECT_EQ(docker.removed.size(), 1u);
}

TEST(RemoveTelerouteNetworkTest, RemovesDockersGatewayBridgeOnlyWhenItCameWithUsAndIsUnused) {
  FakeDocker docker;
  const DockerNetwork ours{.name = "tp-dev", .labels = {{"telepresence.docker_gwbridge", "ours"}}};
  docker.networks["tp-dev"] = ours;
  docker.networks["docker_gwbridge"] = {.name = "docker_gwbridge",
                                        .containers = {{"x-id", "gateway_x", ""}}};
  ASSERT_TRUE(RemoveTelerouteNetwork(docker, "tp-dev").ok());
  EXPECT_EQ(docker.removed, std::vector<std::string>{"tp-dev"}) << "still used: kept";

  docker.networks["tp-dev"] = ours;
  docker.networks["docker_gwbridge"].containers.clear();
  ASSERT_TRUE(RemoveTelerouteNetwork(docker, "tp-dev").ok());
  EXPECT_EQ(docker.removed, (std::vector<std::string>{"tp-dev", "tp-dev", "docker_gwbridge"}));

  docker.networks["tp-dev"] = {.name = "tp-dev",
                               .labels = {{"telepresence.docker_gwbridge", "preexisting"}}};
  docker.networks["docker_gwbridge"] = {.name = "docker_gwbridge"};
  ASSERT_TRUE(RemoveTelerouteNetwork(docker, "tp-dev").ok());
  EXPECT_EQ(docker.removed.back(), "tp-dev") << "it was there before us: kept";
}

}  // namespace
}  // namespace tp::cli
