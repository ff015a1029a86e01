// TrafficCapture in a fresh network namespace: the table, the rule and the route exist while it
// lives and are gone after, leftovers of a crashed run are replaced, subnet updates take effect.
// Everything is read back independently (the nft command's `list table`, libnl dumps).
#include "daemon/traffic_capture.h"

#include <gtest/gtest.h>

#include "daemon/capture_table.h"
#include "daemon/capture_test_network.h"

namespace tp::daemon {
namespace {

using testing::CountLocalDefaultRoutes;
using testing::CountMarkRules;
using testing::ListNftTable;
using testing::TestNetworkNamespace;

constexpr uint32_t kMark = 0x7470;
constexpr uint32_t kTable = 7470;
constexpr uint32_t kPriority = 7470;

bool Has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

class TrafficCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    network_ = TestNetworkNamespace::Create(error);
    if (!network_) {
      GTEST_SKIP() << "\n*** CAPTURE NOT TESTED: this machine cannot create a network namespace ("
                   << error << "). Run the tests as root on Linux. ***\n";
    }
  }

  // Runs `body` inside the test's namespace.
  void InNamespace(const std::function<void()>& body) { ASSERT_TRUE(network_->Run(body)); }

  static TrafficCaptureOptions Options() {
    TrafficCaptureOptions options;
    options.port = 15001;
    options.mark = kMark;
    options.routing_table = kTable;
    options.rule_priority = kPriority;
    return options;
  }

  std::unique_ptr<TestNetworkNamespace> network_;
};

TEST_F(TrafficCaptureTest, InstallsTableRuleAndRouteAndRemovesThemAll) {
  InNamespace([] {
    std::string error;
    auto capture = TrafficCapture::Install(Options(), {"10.201.0.0/24", "fd00::/64"}, error);
    ASSERT_TRUE(capture) << error;
    EXPECT_EQ(capture->Subnets(), (std::vector<std::string>{"10.201.0.0/24", "fd00::/64"}));
    EXPECT_TRUE(Has(ListNftTable("telepresence", "ip6"), "fd00::/64"));
    EXPECT_EQ(CountMarkRules(kMark, kTable, AF_INET6), 1);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable, AF_INET6), 1);

    const std::string table = ListNftTable("telepresence");
    EXPECT_TRUE(Has(table, "set cluster_subnets")) << table;
    EXPECT_TRUE(Has(table, "10.201.0.0/24")) << table;
    EXPECT_TRUE(Has(table, "hook prerouting")) << table;
    EXPECT_TRUE(Has(table, "hook output")) << table;
    EXPECT_TRUE(Has(table, "meta l4proto 6 tproxy to :15001 meta mark set 0x00007470 accept"))
        << table;
    EXPECT_TRUE(Has(table, "meta l4proto 17 tproxy to :15001 meta mark set 0x00007470 accept"))
        << table;
    EXPECT_EQ(CountMarkRules(kMark, kTable), 1);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 1);

    capture.reset();
    EXPECT_EQ(ListNftTable("telepresence"), "");
    EXPECT_EQ(CountMarkRules(kMark, kTable), 0);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 0);
    EXPECT_EQ(ListNftTable("telepresence", "ip6"), "");
    EXPECT_EQ(CountMarkRules(kMark, kTable, AF_INET6), 0);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable, AF_INET6), 0);
  });
}

// A namespace without an IPv6 route to a captured network (a daemon container's) still opens
// connections to it: each captured IPv6 network has a last-resort route, which follows the
// subnets and goes with the capture; one a crashed run left is removed.
TEST_F(TrafficCaptureTest, CapturedIpv6NetworksHaveLastResortRoutes) {
  InNamespace([] {
    ASSERT_TRUE(
        testing::RunCommand("ip -6 route add fd09::/64 dev lo proto 116 metric 4294967295"));
    std::string error;
    auto capture = TrafficCapture::Install(Options(), {"10.201.0.0/24", "fd00::/64"}, error);
    ASSERT_TRUE(capture) << error;
    std::string routes = testing::ListIpv6MainRoutes();
    EXPECT_TRUE(Has(routes, "fd00::/64 dev lo proto 116 metric 4294967295")) << routes;
    EXPECT_FALSE(Has(routes, "fd09::")) << "a leftover is removed: " << routes;

    ASSERT_TRUE(capture->UpdateSubnets({"10.201.0.0/24", "fd01::/64"}, error)) << error;
    routes = testing::ListIpv6MainRoutes();
    EXPECT_TRUE(Has(routes, "fd01::/64 dev lo proto 116 metric 4294967295")) << routes;
    EXPECT_FALSE(Has(routes, "fd00::/64")) << routes;

    capture.reset();
    routes = testing::ListIpv6MainRoutes();
    EXPECT_FALSE(Has(routes, "proto 116")) << routes;
  });
}

TEST_F(TrafficCaptureTest, ReplacesTheLeftoversOfACrashedRun) {
  InNamespace([] {
    std::string error;
    ASSERT_TRUE(testing::RunNft(
        "table ip telepresence {\n chain stale {\n type filter hook input priority 0;\n }\n}\n"));
    ASSERT_EQ(testing::AddLeftoverMarkRouting(kMark, kTable, kPriority), "");
    ASSERT_EQ(testing::AddLeftoverMarkRouting(kMark, kTable, kPriority), "");  // even twice
    ASSERT_EQ(CountMarkRules(kMark, kTable), 2);

    auto capture = TrafficCapture::Install(Options(), {"10.201.0.0/24"}, error);
    ASSERT_TRUE(capture) << error;
    const std::string table = ListNftTable("telepresence");
    EXPECT_FALSE(Has(table, "stale")) << table;
    EXPECT_TRUE(Has(table, "10.201.0.0/24")) << table;
    EXPECT_EQ(CountMarkRules(kMark, kTable), 1);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 1);

    capture.reset();
    EXPECT_EQ(ListNftTable("telepresence"), "");
    EXPECT_EQ(CountMarkRules(kMark, kTable), 0);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 0);
  });
}

TEST_F(TrafficCaptureTest, UpdateSubnetsReplacesTheSet) {
  InNamespace([] {
    std::string error;
    auto capture = TrafficCapture::Install(Options(), {"10.201.0.0/24"}, error);
    ASSERT_TRUE(capture) << error;

    ASSERT_TRUE(capture->UpdateSubnets({"10.202.0.0/16", "10.201.0.0/24", "10.202.3.0/24"}, error))
        << error;
    EXPECT_EQ(capture->Subnets(), (std::vector<std::string>{"10.201.0.0/24", "10.202.0.0/16"}));
    std::string table = ListNftTable("telepresence");
    EXPECT_TRUE(Has(table, "10.201.0.0/24")) << table;
    EXPECT_TRUE(Has(table, "10.202.0.0/16")) << table;

    ASSERT_TRUE(capture->UpdateSubnets({"10.203.0.0/16", "not-a-cidr"}, error)) << error;
    table = ListNftTable("telepresence");
    EXPECT_FALSE(Has(table, "10.201.0.0/24")) << table;
    EXPECT_FALSE(Has(table, "10.202.0.0/16")) << table;
    EXPECT_TRUE(Has(table, "10.203.0.0/16")) << table;

    ASSERT_TRUE(capture->UpdateSubnets({}, error)) << error;
    EXPECT_TRUE(capture->Subnets().empty());
    table = ListNftTable("telepresence");
    EXPECT_FALSE(Has(table, "elements")) << table;
    EXPECT_TRUE(Has(table, "hook prerouting")) << table;  // still installed, capturing nothing
  });
}

TEST_F(TrafficCaptureTest, InstallsWithNoSubnetYet) {
  InNamespace([] {
    std::string error;
    auto capture = TrafficCapture::Install(Options(), {}, error);
    ASSERT_TRUE(capture) << error;
    EXPECT_TRUE(capture->Subnets().empty());
    EXPECT_TRUE(Has(ListNftTable("telepresence"), "hook output"));
    ASSERT_TRUE(capture->UpdateSubnets({"10.201.0.0/24"}, error)) << error;
    EXPECT_TRUE(Has(ListNftTable("telepresence"), "10.201.0.0/24"));
  });
}

TEST_F(TrafficCaptureTest, AFailedInstallLeavesNothingBehind) {
  InNamespace([] {
    TrafficCaptureOptions options = Options();
    options.table_name = "bad name";
    std::string error;
    EXPECT_FALSE(TrafficCapture::Install(options, {"10.201.0.0/24"}, error));
    EXPECT_NE(error, "");
    EXPECT_EQ(CountMarkRules(kMark, kTable), 0);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 0);
  });
}

TEST_F(TrafficCaptureTest, StaysInTheNamespaceItWasInstalledIn) {
  std::unique_ptr<TrafficCapture> capture;
  InNamespace([&] {
    std::string error;
    capture = TrafficCapture::Install(Options(), {"10.201.0.0/24"}, error);
    ASSERT_TRUE(capture) << error;
  });
  ASSERT_TRUE(capture);
  capture.reset();  // from a thread of another namespace: still removes its own
  InNamespace([] {
    EXPECT_EQ(ListNftTable("telepresence"), "");
    EXPECT_EQ(CountMarkRules(kMark, kTable), 0);
    EXPECT_EQ(CountLocalDefaultRoutes(kTable), 0);
  });
}

// The capture table's text (capture_table.h) for nft's family "ip" or "ip6": the IPv6 table has no
// from_bridges chain, and so no guard rule for what it redirects.
std::string CaptureTableText(const std::string& family) {
  const bool ipv4 = family == "ip";
  const std::string daddr = "    " + family + " daddr @cluster_subnets ";
  std::string text = "table " + family + " telepresence {\n" + "  set cluster_subnets { type " +
                     (ipv4 ? "ipv4" : "ipv6") +
                     "_addr; flags interval; }\n"
                     "  chain prerouting {\n"
                     "    type filter hook prerouting priority mangle; policy accept;\n" +
                     daddr + "meta iifkind \"bridge\" accept\n" + daddr +
                     "meta l4proto 6 tproxy to :15001 meta mark set 0x7470 accept\n" + daddr +
                     "meta l4proto 17 tproxy to :15001 meta mark set 0x7470 accept\n"
                     "  }\n";
  if (ipv4) {
    text +=
        "  chain from_bridges {\n"
        "    type nat hook prerouting priority dstnat - 10; policy accept;\n" +
        daddr +
        "meta iifkind \"bridge\" fib daddr . iif oif missing meta l4proto 6 redirect to :15001\n"
        "  }\n";
  }
  text +=
      "  chain output {\n"
      "    type route hook output priority mangle; policy accept;\n" +
      daddr +
      "meta l4proto { 6, 17 } meta mark set 0x7470\n"
      "  }\n"
      "  chain guard {\n"
      "    type filter hook input priority filter; policy accept;\n"
      "    tcp dport 15001 meta mark 0x7470 accept\n";
  if (ipv4) text += "    tcp dport 15001 ct status dnat accept\n";
  return text +
         "    tcp dport 15001 counter drop\n"
         "    udp dport 15001 meta mark 0x7470 accept\n"
         "    udp dport 15001 counter drop\n"
         "  }\n"
         "}\n";
}

// What CaptureTable builds request by request is what nft makes of the table's text (see
// capture_table.h): the same listing, elements included, before and after a subnet change.
TEST_F(TrafficCaptureTest, CaptureTableListsAsNftMakesItsText) {
  InNamespace([] {
    const std::string text = CaptureTableText("ip");
    const auto cidr = [](const char* text) {
      std::string reason;
      return ParseIpv4Cidr(text, reason).value();
    };
    const std::vector<Ipv4Prefix> first = {cidr("10.201.0.0/24"), cidr("10.202.0.0/16")};
    const std::vector<Ipv4Prefix> second = {cidr("10.0.0.0/24"), cidr("10.0.1.0/24"),
                                            cidr("192.168.7.1/32")};
    std::string error;
    auto table = CaptureTable::Install(CaptureTableOptions{}, first, error);
    ASSERT_TRUE(table) << error;
    const std::string installed = ListNftTable("telepresence");
    ASSERT_TRUE(table->ReplaceSubnets(second, error)) << error;
    const std::string replaced = ListNftTable("telepresence");
    table.reset();
    EXPECT_EQ(ListNftTable("telepresence"), "");

    ASSERT_TRUE(testing::RunNft(
        text + "add element ip telepresence cluster_subnets { 10.201.0.0/24, 10.202.0.0/16 }\n"));
    EXPECT_EQ(installed, ListNftTable("telepresence"));
    ASSERT_TRUE(testing::RunNft(
        "flush set ip telepresence cluster_subnets\n"
        "add element ip telepresence cluster_subnets { 10.0.0.0/24, 10.0.1.0/24, 192.168.7.1 }\n"));
    EXPECT_EQ(replaced, ListNftTable("telepresence"));
    EXPECT_TRUE(Has(replaced, "10.0.0.0/24")) << replaced;
  });
}

// The same for IPv6: table ip6, without the from_bridges chain (and so without its guard rule).
TEST_F(TrafficCaptureTest, Ipv6CaptureTableListsAsNftMakesItsText) {
  InNamespace([] {
    const std::string text = CaptureTableText("ip6");
    const auto cidr = [](const char* text) {
      std::string reason;
      return ParseIpv6Cidr(text, reason).value();
    };
    std::string error;
    CaptureTableOptions options;
    options.family = NFPROTO_IPV6;
    auto table = CaptureTable::Install(
        options, std::vector<Ipv6Prefix>{cidr("2001:db8::/32"), cidr("fd00:213::/64")}, error);
    ASSERT_TRUE(table) << error;
    const std::string installed = ListNftTable("telepresence", "ip6");
    ASSERT_TRUE(table->ReplaceSubnets(std::vector<Ipv6Prefix>{cidr("fd00:214::/120")}, error))
        << error;
    const std::string replaced = ListNftTable("telepresence", "ip6");
    table.reset();
    EXPECT_EQ(ListNftTable("telepresence", "ip6"), "");

    ASSERT_TRUE(testing::RunNft(
        text + "add element ip6 telepresence cluster_subnets { 2001:db8::/32, fd00:213::/64 }\n"));
    EXPECT_EQ(installed, ListNftTable("telepresence", "ip6"));
    ASSERT_TRUE(
        testing::RunNft("flush set ip6 telepresence cluster_subnets\n"
                        "add element ip6 telepresence cluster_subnets { fd00:214::/120 }\n"));
    EXPECT_EQ(replaced, ListNftTable("telepresence", "ip6"));
    EXPECT_TRUE(Has(replaced, "fd00:214::/120")) << replaced;
    // An IPv4 table takes no IPv6 networks.
    EXPECT_FALSE(CaptureTable::Install(CaptureTableOptions{},
                                       std::vector<Ipv6Prefix>{cidr("fd00::/64")}, error));
  });
}

}  // namespace
}  // namespace tp::daemon
