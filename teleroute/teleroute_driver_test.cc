#include "teleroute/teleroute_driver.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "teleroute/fake_network_os.h"

namespace tp::teleroute {
namespace {

CreateEndpointRequest EndpointRequest(const std::string& network_id, const std::string& endpoint_id,
                                      const std::string& address) {
  CreateEndpointRequest request;
  request.network_id = network_id;
  request.endpoint_id = endpoint_id;
  request.interface.address = address;
  return request;
}

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

const std::string kNetwork = "0123456789abcdef0123456789abcdef";
const std::string kDaemonEndpoint = "dddddddddddddddd";
const std::string kEndpoint = "eeeeeeeeeeeeeeee";

CreateNetworkRequest NetworkRequest(std::map<std::string, std::string> options) {
  CreateNetworkRequest request;
  request.network_id = kNetwork;
  request.options = std::move(options);
  request.ipv4_data = {{"LocalDefault", "10.1.0.0/24", "10.1.0.1/24", {}}};
  return request;
}

class TelerouteDriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("teleroute-driver-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state_dir_);
    driver_ = std::make_unique<TelerouteDriver>(os_, routes_, state_dir_.string());
  }
  void TearDown() override {
    driver_.reset();
    std::filesystem::remove_all(state_dir_);
  }
  void Restart() {
    driver_.reset();
    driver_ = std::make_unique<TelerouteDriver>(os_, routes_, state_dir_.string());
  }
  std::string CreateError(std::map<std::string, std::string> options) {
    return ErrorOf([&] { driver_->CreateNetwork(NetworkRequest(std::move(options))); });
  }
  static std::string ErrorOf(const std::function<void()>& call) {
    try {
      call();
    } catch (const std::exception& error) {
      return error.what();
    }
    return "(no error)";
  }
  void CreateNetworkAndEndpoints() {
    driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}, {"subnets", "10.96.0.0/12"}}));
    driver_->CreateEndpoint(EndpointRequest(kNetwork, kDaemonEndpoint, "10.1.0.2/24"));
    driver_->CreateEndpoint(EndpointRequest(kNetwork, kEndpoint, "10.1.0.3/24"));
  }

  FakeNetworkOs os_;
  FixedRouteSource routes_;
  std::filesystem::path state_dir_;
  std::unique_ptr<TelerouteDriver> driver_;
};

TEST_F(TelerouteDriverTest, NamesFitInFifteenCharacters) {
  EXPECT_EQ(DefaultBridgeName(kNetwork), "tr-0123456789ab");
  EXPECT_EQ(HostVethName(kEndpoint).size(), 15u);
  EXPECT_EQ(ContainerVethName(kEndpoint).substr(3), HostVethName(kEndpoint).substr(3));
  EXPECT_NE(HostVethName(kEndpoint), HostVethName(kDaemonEndpoint));
}

TEST_F(TelerouteDriverTest, CreateNetworkMakesTheBridgeWithTheGateway) {
  driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}}));
  EXPECT_EQ(os_.links["tr-0123456789ab"], "bridge 10.1.0.1/24");
  EXPECT_THAT(os_.forwarding, ElementsAre("tr-0123456789ab"));
  EXPECT_EQ(driver_->Subnets(kNetwork), ClusterSubnets{});
  driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}}));  // repeated: fine
  EXPECT_THAT(ErrorOf([&] {
                driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.3"}}));
              }),
              HasSubstr("already exists with other settings"));
}

TEST_F(TelerouteDriverTest, BadOptionsAreRefusedWithASentence) {
  EXPECT_THAT(CreateError({}), HasSubstr("option daemon is required"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0"}}), HasSubstr("is not an IPv4 address"));
  EXPECT_THAT(CreateError({{"daemon", "10.2.0.2"}}),
              HasSubstr("not inside the subnet 10.1.0.0/24"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.1"}}), HasSubstr("is the network's gateway"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.255"}}), HasSubstr("broadcast"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"subnets", "10.96.0.0/33"}}),
              HasSubstr("option subnets: \"10.96.0.0/33\" is not an IPv4 subnet"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"bridge", "a-name-far-too-long"}}),
              HasSubstr("not a valid link name"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"colour", "blue"}}),
              HasSubstr("unknown option \"colour\""));
  for (const char* port : {"0", "65536", "80a", "", "-1", "123456"}) {
    EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"control", port}}),
                HasSubstr("is not a port number"));
  }
  os_.links["docker0"] = "bridge";
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"bridge", "docker0"}}),
              HasSubstr("already exists; choose another name"));
  CreateNetworkRequest ipv6 = NetworkRequest({{"daemon", "10.1.0.2"}});
  ipv6.enable_ipv6 = true;
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(ipv6); }),
              HasSubstr("exactly one IPv6 subnet on a network with --ipv6"));
  ipv6.ipv6_data = {{"LocalDefault", "fd00:1::/64", "fd00:1::1/64", {}}};
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(ipv6); }),
              HasSubstr("option daemon6 is required"));
  ipv6.options["daemon6"] = "fd00:2::2";
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(ipv6); }),
              HasSubstr("not an IPv6 address inside the subnet fd00:1::/64"));
  ipv6.options["daemon6"] = "fd00:1::1";
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(ipv6); }), HasSubstr("gateway"));
  ipv6.ipv6_data[0].gateway = "";
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(ipv6); }), HasSubstr("has no gateway"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"daemon6", "fd00:1::2"}}),
              HasSubstr("option daemon6 needs a network with --ipv6"));
  EXPECT_THAT(CreateError({{"daemon", "10.1.0.2"}, {"subnets", "fd00::1/64"}}),
              HasSubstr("host bits are set"));
  CreateNetworkRequest no_pool = NetworkRequest({{"daemon", "10.1.0.2"}});
  no_pool.ipv4_data.clear();
  EXPECT_THAT(ErrorOf([&] { driver_->CreateNetwork(no_pool); }),
              HasSubstr("exactly one IPv4 subnet"));
  EXPECT_EQ(os_.links.size(), 1u);  // only docker0: nothing was created
  EXPECT_THAT(os_.forwarding, IsEmpty());
}

TEST_F(TelerouteDriverTest, DaemonFeedsNameEachNetworksControlApi) {
  driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}, {"control", "9000"}}));
  const std::vector<DaemonFeed> feeds = driver_->DaemonFeeds();
  ASSERT_EQ(feeds.size(), 1u);
  EXPECT_EQ(feeds[0].network_id, kNetwork);
  EXPECT_EQ(feeds[0].daemon.ToString(), "10.1.0.2");
  EXPECT_EQ(feeds[0].control_port, 9000);
  Restart();
  EXPECT_EQ(driver_->DaemonFeeds().at(0).control_port, 9000);
}

TEST_F(TelerouteDriverTest, EndpointsGetVethsAndJoinGetsRoutesViaTheDaemon) {
  CreateNetworkAndEndpoints();
  EXPECT_EQ(os_.links[HostVethName(kEndpoint)], "veth on tr-0123456789ab");
  EXPECT_TRUE(os_.LinkExists(ContainerVethName(kEndpoint)));

  JoinReply daemon = driver_->Join({kNetwork, kDaemonEndpoint, "/netns/daemon"});
  EXPECT_EQ(daemon.src_name, ContainerVethName(kDaemonEndpoint));
  EXPECT_THAT(daemon.static_routes, IsEmpty());  // the daemon is the gateway itself

  JoinReply client = driver_->Join({kNetwork, kEndpoint, "/netns/client"});
  EXPECT_EQ(client.src_name, ContainerVethName(kEndpoint));
  EXPECT_EQ(client.dst_prefix, "eth");
  EXPECT_FALSE(client.disable_gateway_service);
  EXPECT_THAT(client.static_routes, ElementsAre(StaticRoute{"10.96.0.0/12", 0, "10.1.0.2"}));
  EXPECT_THAT(driver_->EndpointOperInfo(kNetwork, kEndpoint), IsEmpty());
}

TEST_F(TelerouteDriverTest, AnEndpointsMacAddressFollowsItsIpAddress) {
  driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}}));
  EXPECT_EQ(driver_->CreateEndpoint(EndpointRequest(kNetwork, kDaemonEndpoint, "10.1.0.2/24"))
                .mac_address,
            "02:42:0a:01:00:02");
  driver_->DeleteEndpoint(kNetwork,
                          kDaemonEndpoint);  // the daemon restarts: same address, same MAC
  EXPECT_EQ(driver_->CreateEndpoint(EndpointRequest(kNetwork, "d2", "10.1.0.2/24")).mac_address,
            "02:42:0a:01:00:02");
  CreateEndpointRequest given = EndpointRequest(kNetwork, kEndpoint, "10.1.0.200/24");
  given.interface.mac_address = "02:00:00:00:00:01";
  EXPECT_EQ(driver_->CreateEndpoint(given).mac_address, "") << "dockerd's own MAC is kept";
}

TEST_F(TelerouteDriverTest, EndpointErrors) {
  CreateNetworkAndEndpoints();
  EXPECT_THAT(ErrorOf([&] { driver_->CreateEndpoint(EndpointRequest(kNetwork, "x", "")); }),
              HasSubstr("IPv4 address from Docker's IPAM"));
  EXPECT_THAT(
      ErrorOf([&] { driver_->CreateEndpoint(EndpointRequest(kNetwork, "x", "10.9.0.3/24")); }),
      HasSubstr("not inside 10.1.0.0/24"));
  EXPECT_THAT(
      ErrorOf([&] { driver_->CreateEndpoint(EndpointRequest("other", "x", "10.1.0.9/24")); }),
      HasSubstr("no such teleroute network other"));
  EXPECT_THAT(ErrorOf([&] {
                driver_->Join({kNetwork, "x", "/n"});
              }),
              HasSubstr("no such endpoint x"));
  EXPECT_THAT(ErrorOf([&] { driver_->Leave("other", kEndpoint); }),
              HasSubstr("no such teleroute network"));
}

TEST_F(TelerouteDriverTest, UpdateRoutesChangesJoinedContainersOnly) {
  CreateNetworkAndEndpoints();
  driver_->Join({kNetwork, kDaemonEndpoint, "/netns/daemon"});
  driver_->Join({kNetwork, kEndpoint, "/netns/client"});
  os_.routes["/netns/client"].insert({*ParseIpv4Prefix("10.96.0.0/12"), "10.1.0.2"});  // dockerd

  const auto problems = driver_->UpdateRoutes(
      kNetwork, {{*ParseIpv4Prefix("10.244.0.0/16"), *ParseIpv4Prefix("10.96.0.0/12")}});
  EXPECT_THAT(problems, IsEmpty());
  EXPECT_THAT(os_.ListRoutes("/netns/client"),
              ElementsAre(RouteEntry{*ParseIpv4Prefix("10.96.0.0/12"), "10.1.0.2"},
                          RouteEntry{*ParseIpv4Prefix("10.244.0.0/16"), "10.1.0.2"}));
  EXPECT_THAT(os_.ListRoutes("/netns/daemon"), IsEmpty());

  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.244.0.0/16")}});
  EXPECT_THAT(os_.ListRoutes("/netns/client"),
              ElementsAre(RouteEntry{*ParseIpv4Prefix("10.244.0.0/16"), "10.1.0.2"}));
  EXPECT_THAT(driver_->Join({kNetwork, kEndpoint, "/netns/client"}).static_routes,
              ElementsAre(StaticRoute{"10.244.0.0/16", 0, "10.1.0.2"}));

  driver_->Leave(kNetwork, kEndpoint);
  driver_->UpdateRoutes(kNetwork, {});
  EXPECT_EQ(os_.ListRoutes("/netns/client").size(), 1u);  // left: not touched
  EXPECT_THROW(driver_->UpdateRoutes("other", {}), std::runtime_error);
}

TEST_F(TelerouteDriverTest, UpdateRoutesReportsContainersItCannotReach) {
  CreateNetworkAndEndpoints();
  driver_->Join({kNetwork, kEndpoint, "fail_namespace"});
  const auto problems = driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.244.0.0/16")}});
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0], HasSubstr("cannot open network namespace"));
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4, ElementsAre(*ParseIpv4Prefix("10.244.0.0/16")));
}

TEST_F(TelerouteDriverTest, DeletesRemoveLinks) {
  CreateNetworkAndEndpoints();
  driver_->DeleteEndpoint(kNetwork, kEndpoint);
  EXPECT_FALSE(os_.LinkExists(HostVethName(kEndpoint)));
  EXPECT_THAT(ErrorOf([&] { driver_->DeleteEndpoint(kNetwork, kEndpoint); }),
              HasSubstr("no such endpoint"));
  driver_->DeleteNetwork(kNetwork);
  EXPECT_THAT(os_.links, IsEmpty());
  EXPECT_THAT(os_.forwarding, IsEmpty());
  EXPECT_THAT(ErrorOf([&] { driver_->DeleteNetwork(kNetwork); }), HasSubstr("no such"));
}

TEST_F(TelerouteDriverTest, StateSurvivesARestartAndLinksComeBack) {
  CreateNetworkAndEndpoints();
  driver_->Join({kNetwork, kEndpoint, "/netns/client"});
  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.244.0.0/16")}});
  os_.links.clear();  // a reboot of the host network, say
  os_.forwarding.clear();
  Restart();
  EXPECT_TRUE(os_.LinkExists("tr-0123456789ab"));
  EXPECT_THAT(os_.forwarding, ElementsAre("tr-0123456789ab"));
  EXPECT_TRUE(os_.LinkExists(HostVethName(kDaemonEndpoint)));  // not joined: re-created
  EXPECT_FALSE(os_.LinkExists(HostVethName(kEndpoint)));       // joined: its container lost it
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4, ElementsAre(*ParseIpv4Prefix("10.244.0.0/16")));
  EXPECT_THAT(driver_->Join({kNetwork, kEndpoint, "/netns/client"}).static_routes,
              ElementsAre(StaticRoute{"10.244.0.0/16", 0, "10.1.0.2"}));
  driver_->CreateNetwork(NetworkRequest({{"daemon", "10.1.0.2"}, {"subnets", "10.96.0.0/12"}}));
}

Ipv6Prefix Prefix6(std::string_view text) {
  std::string reason;
  return ParseIpv6Cidr(text, reason).value();
}

TEST_F(TelerouteDriverTest, ADualStackNetworkRoutesTheClustersIpv6SubnetsViaTheDaemon) {
  CreateNetworkRequest request = NetworkRequest({{"daemon", "10.1.0.2"},
                                                 {"daemon6", "fd00:1::2"},
                                                 {"subnets", "10.96.0.0/12,fd00:96::/112"}});
  request.enable_ipv6 = true;
  request.ipv6_data = {{"LocalDefault", "fd00:1::/64", "fd00:1::1/64", {}}};
  driver_->CreateNetwork(request);
  EXPECT_EQ(os_.links["tr-0123456789ab"], "bridge 10.1.0.1/24 fd00:1::1/64");
  CreateEndpointRequest daemon = EndpointRequest(kNetwork, kDaemonEndpoint, "10.1.0.2/24");
  daemon.interface.address_ipv6 = "fd00:1::2/64";
  driver_->CreateEndpoint(daemon);
  CreateEndpointRequest client = EndpointRequest(kNetwork, kEndpoint, "10.1.0.3/24");
  client.interface.address_ipv6 = "fd00:1::3/64";
  driver_->CreateEndpoint(client);
  CreateEndpointRequest outside = EndpointRequest(kNetwork, "x", "10.1.0.4/24");
  outside.interface.address_ipv6 = "fd00:2::4/64";
  EXPECT_THAT(ErrorOf([&] { driver_->CreateEndpoint(outside); }),
              HasSubstr("not inside fd00:1::/64"));

  EXPECT_THAT(driver_->Join({kNetwork, kDaemonEndpoint, "/netns/daemon"}).static_routes, IsEmpty());
  EXPECT_THAT(driver_->Join({kNetwork, kEndpoint, "/netns/client"}).static_routes,
              ElementsAre(StaticRoute{"10.96.0.0/12", 0, "10.1.0.2"},
                          StaticRoute{"fd00:96::/112", 0, "fd00:1::2"}));

  // The daemon's subnets change: the joined container's IPv6 routes follow, the daemon's do not.
  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.96.0.0/12")}, {Prefix6("fd00:97::/64")}});
  EXPECT_THAT(os_.ListRoutes6("/netns/client"),
              ElementsAre(Route6Entry{Prefix6("fd00:97::/64"), "fd00:1::2"}));
  EXPECT_THAT(os_.ListRoutes6("/netns/daemon"), IsEmpty());

  Restart();  // the IPv6 half is saved, and the bridge gets its IPv6 address back
  os_.links.clear();
  Restart();
  EXPECT_EQ(os_.links["tr-0123456789ab"], "bridge 10.1.0.1/24 fd00:1::1/64");
  EXPECT_EQ(driver_->Subnets(kNetwork).ipv6, std::vector{Prefix6("fd00:97::/64")});
  driver_->CreateNetwork(request);  // the same settings: a repeat, not a clash
}

TEST_F(TelerouteDriverTest, AnIpv4OnlyNetworkRefusesIpv6EndpointsAndRoutesNoIpv6) {
  CreateNetworkAndEndpoints();
  CreateEndpointRequest v6 = EndpointRequest(kNetwork, "x", "10.1.0.9/24");
  v6.interface.address_ipv6 = "fd00:1::9/64";
  EXPECT_THAT(ErrorOf([&] { driver_->CreateEndpoint(v6); }), HasSubstr("without --ipv6"));
  driver_->Join({kNetwork, kEndpoint, "/netns/client"});
  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.96.0.0/12")}, {Prefix6("fd00:97::/64")}});
  EXPECT_THAT(os_.ListRoutes6("/netns/client"), IsEmpty());
  EXPECT_THAT(driver_->Join({kNetwork, kEndpoint, "/netns/client"}).static_routes,
              ElementsAre(StaticRoute{"10.96.0.0/12", 0, "10.1.0.2"}));
}

TEST_F(TelerouteDriverTest, CorruptStateIsMovedAside) {
  driver_.reset();
  std::ofstream(state_dir_ / "teleroute.json") << "{\"networks\": 3}";
  Restart();
  EXPECT_TRUE(std::filesystem::exists(state_dir_ / "teleroute.json.corrupt"));
  EXPECT_THROW(driver_->Subnets(kNetwork), std::runtime_error);
}

}  // namespace
}  // namespace tp::teleroute
