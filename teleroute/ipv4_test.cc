#include "teleroute/ipv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace tp::teleroute {
namespace {

using ::testing::HasSubstr;

TEST(Ipv4Test, ParsesAddressesAndPrefixes) {
  EXPECT_EQ(ParseIpv4Address("10.1.2.3")->ToString(), "10.1.2.3");
  EXPECT_FALSE(ParseIpv4Address("10.1.2"));
  EXPECT_FALSE(ParseIpv4Address(""));
  EXPECT_FALSE(ParseIpv4Address("fd00::1"));
  EXPECT_EQ(ParseIpv4Prefix("10.1.0.2/24")->ToString(), "10.1.0.2/24");
  EXPECT_EQ(ParseIpv4Prefix("0.0.0.0/0")->length, 0);
  for (const char* bad :
       {"10.1.0.2", "10.1.0.2/", "10.1.0.2/33", "10.1.0.2/-1", "10.1.0.2/2x", "x/24"}) {
    EXPECT_FALSE(ParseIpv4Prefix(bad)) << bad;
  }
}

TEST(Ipv4Test, ContainsAndNetwork) {
  const Ipv4Prefix pool = *ParseIpv4Prefix("10.1.0.0/24");
  EXPECT_TRUE(pool.Contains(*ParseIpv4Address("10.1.0.200")));
  EXPECT_FALSE(pool.Contains(*ParseIpv4Address("10.1.1.1")));
  EXPECT_EQ(ParseIpv4Prefix("10.1.0.7/24")->Network().ToString(), "10.1.0.0/24");
  EXPECT_TRUE(ParseIpv4Prefix("0.0.0.0/0")->Contains(*ParseIpv4Address("1.2.3.4")));
}

TEST(Ipv4Test, SubnetListsAreSortedAndChecked) {
  const auto subnets = ParseSubnetList(" 10.244.0.0/16, 10.96.0.0/12,,10.96.0.0/12 ");
  ASSERT_EQ(subnets.size(), 2u);
  EXPECT_EQ(subnets[0].ToString(), "10.96.0.0/12");
  EXPECT_EQ(subnets[1].ToString(), "10.244.0.0/16");
  EXPECT_TRUE(ParseSubnetList("").empty());
  try {
    ParseSubnetList("10.96.1.0/12");
    FAIL() << "host bits accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_THAT(error.what(), HasSubstr("did you mean 10.96.0.0/12"));
  }
  EXPECT_THROW(ParseSubnetList("10.96.0.0"), std::invalid_argument);
}

}  // namespace
}  // namespace tp::teleroute
