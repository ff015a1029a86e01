// TelerouteDriver + NetlinkNetworkOs in real network namespaces. The test process first moves
// into a private network namespace of its own (the "host": the plugin's namespace), so bridges
// and veths never touch the machine's real network and vanish with the process. The "daemon" and
// "container" namespaces are named (ip netns) with unique names and removed by RAII. `ip` plays
// dockerd's part: it moves the container-side veth in, addresses it and adds Join's routes.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <thread>

#include "net/socket_address.h"
#include "net/unique_fd.h"
#include "teleroute/bridge_forwarding.h"
#include "teleroute/netlink_os.h"
#include "teleroute/teleroute_driver.h"

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

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Not;

const std::string kNetwork = "feedfacecafe0123456789";
const std::string kDaemonEndpoint = "d0d0d0d0d0d0d0d0d0";
const std::string kClientEndpoint = "c1c1c1c1c1c1c1c1c1";
const std::string kBridge = "tr-feedfacecafe";

int Shell(const std::string& command) {
  const int status = std::system((command + " >/dev/null 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string Output(const std::string& command) {
  std::string text;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return text;
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe)) text += buffer;
  ::pclose(pipe);
  return text;
}

// A named network namespace (/run/netns/<name>), deleted when this goes out of scope.
class NamedNetns {
 public:
  explicit NamedNetns(std::string name) : name_(std::move(name)) {
    created_ = Shell("ip netns add " + name_) == 0;
  }
  ~NamedNetns() {
    if (created_) Shell("ip netns del " + name_);
  }
  NamedNetns(const NamedNetns&) = delete;
  NamedNetns& operator=(const NamedNetns&) = delete;

  bool created() const { return created_; }
  const std::string& name() const { return name_; }
  std::string path() const { return "/run/netns/" + name_; }
  std::string ip() const { return "ip -n " + name_ + " "; }

 private:
  std::string name_;
  bool created_ = false;
};

// Runs `work` on a thread of its own inside the namespace at `path`.
template <typename T>
T InNetns(const std::string& path, const std::function<T()>& work) {
  T result{};
  std::thread worker([&] {
    UniqueFd netns(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (netns.Valid() && ::setns(netns.Get(), CLONE_NEWNET) == 0) result = work();
  });
  worker.join();
  return result;
}

// A TCP listener on ip:<free port> (IPv4 or IPv6) in the current thread's namespace.
std::pair<UniqueFd, uint16_t> Listen(const std::string& ip) {
  std::optional<SocketAddress> address = ParseSocketAddress(ip, 0);
  if (!address) return {UniqueFd(), 0};
  UniqueFd fd(::socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (::bind(fd.Get(), address->get(), address->length) != 0 || ::listen(fd.Get(), 8) != 0) {
    return {UniqueFd(), 0};
  }
  socklen_t length = sizeof(address->storage);
  ::getsockname(fd.Get(), reinterpret_cast<sockaddr*>(&address->storage), &length);
  return {std::move(fd), AddressPort(address->storage)};
}

// True when a TCP connect to ip:port succeeds within 3 s from the current thread's namespace.
bool Connects(const std::string& ip, uint16_t port) {
  std::optional<SocketAddress> address = ParseSocketAddress(ip, port);
  if (!address) return false;
  UniqueFd fd(::socket(address->family(), SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval timeout{3, 0};
  ::setsockopt(fd.Get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
  return ::connect(fd.Get(), address->get(), address->length) == 0;
}

RouteEntry Route(const std::string& destination, const std::string& gateway) {
  return {*ParseIpv4Prefix(destination), gateway};
}

Ipv6Prefix Prefix6(std::string_view text) {
  std::string reason;
  return ParseIpv6Cidr(text, reason).value();
}

class NetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) {
      GTEST_SKIP() << "*** SKIPPED: teleroute namespace tests need root (network namespaces, "
                      "veth, bridges) ***";
    }
    if (::unshare(CLONE_NEWNET) != 0 || Shell("ip link set lo up") != 0) {
      GTEST_SKIP() << "*** SKIPPED: cannot create a network namespace here (unshare: "
                   << std::strerror(errno) << ") ***";
    }
    const std::string prefix = "trtest-" + std::to_string(::getpid());
    daemon_ns_ = std::make_unique<NamedNetns>(prefix + "-d");
    client_ns_ = std::make_unique<NamedNetns>(prefix + "-c");
    if (!daemon_ns_->created() || !client_ns_->created()) {
      GTEST_SKIP() << "*** SKIPPED: `ip netns add` failed; named namespaces unavailable ***";
    }
    state_dir_ = std::filesystem::temp_directory_path() / (prefix + "-state");
    std::filesystem::remove_all(state_dir_);
    StartDriver();
  }
  void TearDown() override {
    driver_.reset();
    client_ns_.reset();
    daemon_ns_.reset();
    if (!state_dir_.empty()) std::filesystem::remove_all(state_dir_);
  }
  void StartDriver() {
    driver_.reset();
    driver_ = std::make_unique<TelerouteDriver>(os_, routes_, state_dir_.string());
  }
  void CreateNetwork() {
    CreateNetworkRequest request;
    request.network_id = kNetwork;
    request.options = {{"daemon", "10.77.0.2"}, {"subnets", "10.96.0.0/12"}};
    request.ipv4_data = {{"LocalDefault", "10.77.0.0/24", "10.77.0.1/24", {}}};
    driver_->CreateNetwork(request);
  }
  // Does what dockerd does after Join: moves SrcName into the sandbox as eth0, gives it the
  // endpoint's address and adds the returned static routes.
  // With `address6`, the endpoint also has that IPv6 address (without duplicate detection).
  void SimulateDockerdJoin(const NamedNetns& netns, const std::string& endpoint_id,
                           const std::string& address, const std::string& address6 = "") {
    CreateEndpointRequest endpoint = EndpointRequest(kNetwork, endpoint_id, address);
    endpoint.interface.address_ipv6 = address6;
    driver_->CreateEndpoint(endpoint);
    JoinReply reply = driver_->Join({kNetwork, endpoint_id, netns.path()});
    ASSERT_EQ(Shell("ip link set " + reply.src_name + " netns " + netns.name()), 0);
    ASSERT_EQ(Shell(netns.ip() + "link set " + reply.src_name + " name eth0"), 0);
    ASSERT_EQ(Shell(netns.ip() + "addr add " + address + " dev eth0"), 0);
    if (!address6.empty()) {
      ASSERT_EQ(Shell(netns.ip() + "addr add " + address6 + " dev eth0 nodad"), 0);
    }
    ASSERT_EQ(Shell(netns.ip() + "link set eth0 up"), 0);
    ASSERT_EQ(Shell(netns.ip() + "link set lo up"), 0);
    for (const StaticRoute& route : reply.static_routes) {
      ASSERT_EQ(Shell(netns.ip() + "route add " + route.destination + " via " + route.next_hop), 0);
    }
  }
  bool ClientConnects(const std::string& ip, uint16_t port) {
    return InNetns<bool>(client_ns_->path(), [&] { return Connects(ip, port); });
  }
  std::pair<UniqueFd, uint16_t> DaemonListens(const std::string& ip) {
    return InNetns<std::pair<UniqueFd, uint16_t>>(daemon_ns_->path(), [&] { return Listen(ip); });
  }

  NetlinkNetworkOs os_;
  FixedRouteSource routes_;
  std::unique_ptr<NamedNetns> daemon_ns_, client_ns_;
  std::filesystem::path state_dir_;
  std::unique_ptr<TelerouteDriver> driver_;
};

TEST_F(NetnsTest, CreateNetworkMakesAnUpBridgeWithTheGatewayAddress) {
  CreateNetwork();
  const std::string bridge = Output("ip -o addr show dev " + kBridge);
  EXPECT_THAT(bridge, HasSubstr("inet 10.77.0.1/24"));
  EXPECT_THAT(Output("ip -o link show " + kBridge), HasSubstr(",UP"));
  EXPECT_THAT(Output("ip -d -o link show " + kBridge), HasSubstr("bridge"));
  CreateNetwork();  // repeated create is idempotent
}

TEST_F(NetnsTest, CreateEndpointMakesAVethOnTheBridge) {
  CreateNetwork();
  driver_->CreateEndpoint(EndpointRequest(kNetwork, kClientEndpoint, "10.77.0.3/24"));
  EXPECT_THAT(Output("ip -o link show " + HostVethName(kClientEndpoint)),
              HasSubstr("master " + kBridge));
  EXPECT_TRUE(os_.LinkExists(ContainerVethName(kClientEndpoint)));
  driver_->DeleteEndpoint(kNetwork, kClientEndpoint);
  EXPECT_FALSE(os_.LinkExists(HostVethName(kClientEndpoint)));
  EXPECT_FALSE(os_.LinkExists(ContainerVethName(kClientEndpoint)));
  os_.DeleteLink(HostVethName(kClientEndpoint));  // a missing link is not an error
}

TEST_F(NetnsTest, ContainersReachTheDaemonAndClusterSubnetsThroughIt) {
  CreateNetwork();
  SimulateDockerdJoin(*daemon_ns_, kDaemonEndpoint, "10.77.0.2/24");
  SimulateDockerdJoin(*client_ns_, kClientEndpoint, "10.77.0.3/24");
  EXPECT_THAT(os_.ListRoutes(daemon_ns_->path()),
              Not(Contains(Route("10.96.0.0/12", "10.77.0.2"))));
  EXPECT_THAT(os_.ListRoutes(client_ns_->path()), Contains(Route("10.96.0.0/12", "10.77.0.2")));

  // The daemon answers on its own address and, standing for the cluster, on 10.96.0.10.
  ASSERT_EQ(Shell(daemon_ns_->ip() + "addr add 10.96.0.10/32 dev lo"), 0);
  auto [daemon_listener, daemon_port] = DaemonListens("10.77.0.2");
  auto [cluster_listener, cluster_port] = DaemonListens("10.96.0.10");
  ASSERT_NE(daemon_port, 0);
  ASSERT_NE(cluster_port, 0);
  EXPECT_TRUE(ClientConnects("10.77.0.2", daemon_port));
  EXPECT_TRUE(ClientConnects("10.96.0.10", cluster_port));
  EXPECT_TRUE(Connects("10.77.0.2", daemon_port)) << "the host reaches the daemon via the bridge";

  // A new cluster subnet reaches the running container.
  ASSERT_EQ(Shell(daemon_ns_->ip() + "addr add 10.244.0.5/32 dev lo"), 0);
  auto [pod_listener, pod_port] = DaemonListens("10.244.0.5");
  EXPECT_FALSE(ClientConnects("10.244.0.5", pod_port));
  const auto problems = driver_->UpdateRoutes(
      kNetwork, {{*ParseIpv4Prefix("10.96.0.0/12"), *ParseIpv4Prefix("10.244.0.0/16")}});
  EXPECT_THAT(problems, ::testing::IsEmpty());
  EXPECT_THAT(os_.ListRoutes(client_ns_->path()), Contains(Route("10.244.0.0/16", "10.77.0.2")));
  EXPECT_THAT(os_.ListRoutes(daemon_ns_->path()),
              Not(Contains(Route("10.244.0.0/16", "10.77.0.2"))));
  EXPECT_TRUE(ClientConnects("10.244.0.5", pod_port));

  // A subnet the cluster no longer has goes away, also the route dockerd added at Join.
  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.244.0.0/16")}});
  EXPECT_THAT(os_.ListRoutes(client_ns_->path()),
              Not(Contains(Route("10.96.0.0/12", "10.77.0.2"))));
  EXPECT_THAT(os_.ListRoutes(client_ns_->path()), Contains(Route("10.244.0.0/16", "10.77.0.2")));

  // Leave + DeleteEndpoint remove the pair (also its side in the container); DeleteNetwork the
  // bridge.
  driver_->Leave(kNetwork, kClientEndpoint);
  driver_->DeleteEndpoint(kNetwork, kClientEndpoint);
  EXPECT_NE(Shell(client_ns_->ip() + "link show eth0"), 0);
  driver_->Leave(kNetwork, kDaemonEndpoint);
  driver_->DeleteEndpoint(kNetwork, kDaemonEndpoint);
  driver_->DeleteNetwork(kNetwork);
  EXPECT_FALSE(os_.LinkExists(kBridge));
}

// A network created with --ipv6: the bridge gets its IPv6 gateway, a container's IPv6 cluster
// routes lead to the daemon's IPv6 address, and a new IPv6 subnet reaches a running container.
TEST_F(NetnsTest, ADualStackNetworkRoutesIpv6ViaTheDaemon) {
  CreateNetworkRequest request;
  request.network_id = kNetwork;
  request.options = {
      {"daemon", "10.77.0.2"}, {"daemon6", "fd77::2"}, {"subnets", "10.96.0.0/12,fd96::/112"}};
  request.enable_ipv6 = true;
  request.ipv4_data = {{"LocalDefault", "10.77.0.0/24", "10.77.0.1/24", {}}};
  request.ipv6_data = {{"LocalDefault", "fd77::/64", "fd77::1/64", {}}};
  driver_->CreateNetwork(request);
  EXPECT_THAT(Output("ip -o addr show dev " + kBridge), HasSubstr("inet6 fd77::1/64"));
  SimulateDockerdJoin(*daemon_ns_, kDaemonEndpoint, "10.77.0.2/24", "fd77::2/64");
  SimulateDockerdJoin(*client_ns_, kClientEndpoint, "10.77.0.3/24", "fd77::3/64");
  EXPECT_THAT(os_.ListRoutes6(client_ns_->path()),
              Contains(Route6Entry{Prefix6("fd96::/112"), "fd77::2"}));
  EXPECT_THAT(os_.ListRoutes6(daemon_ns_->path()),
              Not(Contains(Route6Entry{Prefix6("fd96::/112"), "fd77::2"})));

  // The daemon, standing for the cluster, answers on fd96::10 and then on fd97::5.
  ASSERT_EQ(Shell(daemon_ns_->ip() + "addr add fd96::10/128 dev lo"), 0);
  ASSERT_EQ(Shell(daemon_ns_->ip() + "addr add fd97::5/128 dev lo"), 0);
  auto [cluster_listener, cluster_port] = DaemonListens("fd96::10");
  auto [pod_listener, pod_port] = DaemonListens("fd97::5");
  ASSERT_NE(cluster_port, 0);
  ASSERT_NE(pod_port, 0);
  EXPECT_TRUE(ClientConnects("fd96::10", cluster_port));
  EXPECT_FALSE(ClientConnects("fd97::5", pod_port));
  const auto problems =
      driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.96.0.0/12")}, {Prefix6("fd97::/64")}});
  EXPECT_THAT(problems, ::testing::IsEmpty());
  EXPECT_THAT(os_.ListRoutes6(client_ns_->path()),
              Not(Contains(Route6Entry{Prefix6("fd96::/112"), "fd77::2"})));
  EXPECT_TRUE(ClientConnects("fd97::5", pod_port));
}

TEST_F(NetnsTest, RestartReloadsStateAndRecreatesAMissingBridge) {
  CreateNetwork();
  SimulateDockerdJoin(*client_ns_, kClientEndpoint, "10.77.0.3/24");
  os_.DeleteLink(kBridge);
  StartDriver();
  EXPECT_THAT(Output("ip -o addr show dev " + kBridge), HasSubstr("inet 10.77.0.1/24"));
  EXPECT_THAT(Output("ip -o link show " + HostVethName(kClientEndpoint)),
              HasSubstr("master " + kBridge));
  // The container keeps working with the restored bridge, and the driver still knows it.
  auto [listener, port] = Listen("10.77.0.1");
  ASSERT_NE(port, 0);
  EXPECT_TRUE(ClientConnects("10.77.0.1", port));
  driver_->UpdateRoutes(kNetwork, {{*ParseIpv4Prefix("10.245.0.0/16")}});
  EXPECT_THAT(os_.ListRoutes(client_ns_->path()), Contains(Route("10.245.0.0/16", "10.77.0.2")));
}

// Docker's firewall in miniature, in the test's private "host" namespace: FORWARD drops what
// DOCKER-USER does not accept, and br_netfilter hands bridged frames to it.
TEST_F(NetnsTest, TheBridgeForwardsDespiteADroppingForwardPolicy) {
  if (Shell("echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables") != 0) {
    GTEST_SKIP() << "*** SKIPPED: br_netfilter is not loaded here, so bridged frames never meet "
                    "the FORWARD chain (Docker loads it; modprobe br_netfilter) ***";
  }
  ASSERT_EQ(
      Shell("nft 'add table ip filter; add chain ip filter DOCKER-USER; "
            "add rule ip filter DOCKER-USER return; "
            "add chain ip filter FORWARD { type filter hook forward priority 0; policy drop; }; "
            "add rule ip filter FORWARD jump DOCKER-USER'"),
      0);
  BridgeForwarding forwarding;
  CreateNetwork();
  EXPECT_TRUE(forwarding.Allowed(kBridge));
  SimulateDockerdJoin(*daemon_ns_, kDaemonEndpoint, "10.77.0.2/24");
  SimulateDockerdJoin(*client_ns_, kClientEndpoint, "10.77.0.3/24");
  auto [listener, port] = DaemonListens("10.77.0.2");
  ASSERT_NE(port, 0);
  EXPECT_TRUE(ClientConnects("10.77.0.2", port));

  forwarding.Revoke(kBridge);
  EXPECT_FALSE(ClientConnects("10.77.0.2", port)) << "the policy drops the bridge's frames";
  driver_->Join({kNetwork, kClientEndpoint, client_ns_->path()});  // a Join puts it back
  EXPECT_TRUE(ClientConnects("10.77.0.2", port));

  driver_->Leave(kNetwork, kClientEndpoint);
  driver_->DeleteEndpoint(kNetwork, kClientEndpoint);
  driver_->Leave(kNetwork, kDaemonEndpoint);
  driver_->DeleteEndpoint(kNetwork, kDaemonEndpoint);
  driver_->DeleteNetwork(kNetwork);
  EXPECT_FALSE(forwarding.Allowed(kBridge));
  EXPECT_THAT(Output("nft list chain ip filter DOCKER-USER"), Not(HasSubstr("teleroute")));
}

// Docker's DOCKER-USER chain, with the rule Docker puts in it, in the test's private namespace.
void AddDockerUserChain() {
  ASSERT_EQ(Shell("nft 'add table ip filter; add chain ip filter DOCKER-USER; "
                  "add rule ip filter DOCKER-USER return'"),
            0);
}

// The lines of `nft list chain ip filter DOCKER-USER` that mention `text`.
int ListingLinesWith(const std::string& text) {
  const std::string listing = Output("nft list chain ip filter DOCKER-USER");
  int count = 0;
  for (size_t at = listing.find(text); at != std::string::npos; at = listing.find(text, at + 1)) {
    ++count;
  }
  return count;
}

TEST_F(NetnsTest, AllowingTwiceLeavesOneRuleAsNftWouldWriteItAndRevokeRemovesIt) {
  AddDockerUserChain();
  BridgeForwarding forwarding;
  forwarding.Allow(kBridge);
  forwarding.Allow(kBridge);
  EXPECT_TRUE(forwarding.Allowed(kBridge));
  EXPECT_EQ(ListingLinesWith("teleroute"), 1);
  const std::string quoted = "\"" + kBridge + "\"";
  EXPECT_THAT(Output("nft list chain ip filter DOCKER-USER"),
              HasSubstr("iifname " + quoted + " oifname " + quoted +
                        " counter packets 0 bytes 0 accept comment \"teleroute " + kBridge + "\""));
  // Inserted at the top: before Docker's `return`, or it would never match.
  const std::string listing = Output("nft list chain ip filter DOCKER-USER");
  EXPECT_LT(listing.find("teleroute"), listing.find("return"));

  forwarding.Revoke(kBridge);
  EXPECT_FALSE(forwarding.Allowed(kBridge));
  EXPECT_EQ(ListingLinesWith("teleroute"), 0);
  EXPECT_EQ(ListingLinesWith("return"), 1) << "Docker's own rule stays";
  forwarding.Revoke(kBridge);  // missing is not an error
}

TEST_F(NetnsTest, RulesOfOtherBridgesStay) {
  AddDockerUserChain();
  BridgeForwarding forwarding;
  forwarding.Allow("tr-a");
  forwarding.Allow("tr-ab");
  forwarding.Revoke("tr-a");
  EXPECT_FALSE(forwarding.Allowed("tr-a"));
  EXPECT_TRUE(forwarding.Allowed("tr-ab"));
  EXPECT_EQ(ListingLinesWith("comment \"teleroute tr-ab\""), 1);
}

TEST_F(NetnsTest, WithoutDockersChainAllowAddsNothingAndDoesNotThrow) {
  BridgeForwarding forwarding;
  EXPECT_NO_THROW(forwarding.Allow(kBridge));
  EXPECT_FALSE(forwarding.Allowed(kBridge));
  EXPECT_NO_THROW(forwarding.Revoke(kBridge));
  EXPECT_THAT(Output("nft list ruleset"), Not(HasSubstr("teleroute")));
}

TEST(BridgeForwardingListing, FindsTheHandlesOfOneBridgesRulesOnly) {
  const std::vector<ListedRule> rules = {
      {31, "teleroute tr-a"}, {32, "teleroute tr-ab"}, {8, ""}, {9, "teleroute tr-a more"}};
  EXPECT_THAT(TaggedRuleHandles(rules, "tr-a"), ::testing::ElementsAre(31u));
  EXPECT_THAT(TaggedRuleHandles(rules, "tr-ab"), ::testing::ElementsAre(32u));
  EXPECT_THAT(TaggedRuleHandles(rules, "tr"), ::testing::IsEmpty());
  EXPECT_THAT(TaggedRuleHandles({}, "tr-a"), ::testing::IsEmpty());
}

}  // namespace
}  // namespace tp::teleroute
