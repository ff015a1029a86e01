#include "common/ipv6.h"

#include <gtest/gtest.h>

namespace tp {
namespace {

Ipv6Prefix Parsed(std::string_view text) {
  std::string reason;
  std::optional<Ipv6Prefix> prefix = ParseIpv6Cidr(text, reason);
  EXPECT_TRUE(prefix) << text << ": " << reason;
  return prefix.value_or(Ipv6Prefix{});
}

TEST(Ipv6PrefixTest, ParsesNetworksAndSaysWhatIsWrongWithTheRest) {
  EXPECT_EQ(Parsed("fd00:213::/64").ToString(), "fd00:213::/64");
  EXPECT_EQ(Parsed("::/0").length, 0);
  std::string reason;
  EXPECT_FALSE(ParseIpv6Cidr("fd00:213::1/64", reason));
  EXPECT_EQ(reason, "host bits are set; the network is fd00:213::/64");
  EXPECT_FALSE(ParseIpv6Cidr("10.0.0.0/8", reason));
  EXPECT_FALSE(ParseIpv6Cidr("fd00::", reason));
  EXPECT_FALSE(ParseIpv6Cidr("fd00::/129", reason));
  EXPECT_FALSE(ParseIpv6Cidr("fd00::/6x", reason));
}

TEST(Ipv6PrefixTest, LastAndContains) {
  const Ipv6Prefix network = Parsed("fd00:213::/120");
  EXPECT_EQ(network.Last()[15], 0xff);
  EXPECT_EQ(network.Last()[14], 0x00);
  EXPECT_TRUE(network.Contains(Parsed("fd00:213::80/121")));
  EXPECT_FALSE(network.Contains(Parsed("fd00:213::/119")));
  EXPECT_FALSE(network.Contains(Parsed("fd00:214::/120")));
  EXPECT_TRUE(Parsed("::/0").Contains(network));
}

TEST(Ipv6PrefixTest, InterfaceAddressesKeepTheirHostBits) {
  const std::optional<Ipv6Prefix> gateway = ParseIpv6Prefix("fd00:213::1/64");
  ASSERT_TRUE(gateway);
  EXPECT_EQ(gateway->ToString(), "fd00:213::1/64");
  EXPECT_EQ(gateway->Address().ToString(), "fd00:213::1");
  EXPECT_EQ(gateway->Network().ToString(), "fd00:213::/64");
  EXPECT_TRUE(gateway->Network().Contains(*ParseIpv6Address("fd00:213::ffff")));
  EXPECT_FALSE(gateway->Network().Contains(*ParseIpv6Address("fd00:214::1")));
  EXPECT_FALSE(ParseIpv6Prefix("fd00:213::1"));
  EXPECT_FALSE(ParseIpv6Prefix("fd00:213::1/129"));
  EXPECT_FALSE(ParseIpv6Prefix("10.0.0.1/24"));
  EXPECT_FALSE(ParseIpv6Address("fd00::/64"));
  EXPECT_FALSE(ParseIpv6Address("10.0.0.1"));
}

}  // namespace
}  // namespace tp
