// Strict IPv4 address, prefix and CIDR parsing, and subnet lists.
#include "common/ipv4.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>

namespace tp {
namespace {

using ::testing::HasSubstr;

TEST(Ipv4Test, ParsesAddressesAndPrefixes) {
  EXPECT_EQ(ParseIpv4Address("10.1.2.3")->ToString(), "10.1.2.3");
  EXPECT_FALSE(ParseIpv4Address("10.1.2"));
  EXPECT_FALSE(ParseIpv4Address(""));
  EXPECT_FALSE(ParseIpv4Address("fd00::1"));
  EXPECT_FALSE(ParseIpv4Address("010.1.2.3"));
  EXPECT_EQ(ParseIpv4Prefix("10.1.0.2/24")->ToString(), "10.1.0.2/24");
  EXPECT_EQ(ParseIpv4Prefix("0.0.0.0/0")->length, 0);
  for (const char* bad : {"10.1.0.2", "10.1.0.2/", "10.1.0.2/33", "10.1.0.2/-1", "10.1.0.2/2x",
                          "x/24", "10.1.0.2/+8", "10.1.0.2/08"}) {
    EXPECT_FALSE(ParseIpv4Prefix(bad)) << bad;
  }
}

TEST(Ipv4Test, ContainsAndNetwork) {
  const Ipv4Prefix pool = *ParseIpv4Prefix("10.1.0.0/24");
  EXPECT_TRUE(pool.Contains(*ParseIpv4Address("10.1.0.200")));
  EXPECT_FALSE(pool.Contains(*ParseIpv4Address("10.1.1.1")));
  EXPECT_TRUE(pool.Contains(*ParseIpv4Prefix("10.1.0.128/25")));
  EXPECT_FALSE(pool.Contains(*ParseIpv4Prefix("10.1.0.0/23")));
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

TEST(Ipv4Cidr, ParsesCanonicalNetworks) {
  std::string reason;
  const auto cidr = ParseIpv4Cidr("10.96.0.0/12", reason);
  ASSERT_TRUE(cidr) << reason;
  EXPECT_EQ(cidr->address.value, 0x0a600000u);
  EXPECT_EQ(cidr->length, 12);
  EXPECT_EQ(cidr->ToString(), "10.96.0.0/12");
  EXPECT_TRUE(cidr->Contains(Ipv4Address{0x0a6fffffu}));
  EXPECT_FALSE(cidr->Contains(Ipv4Address{0x0a700000u}));
  EXPECT_EQ(ParseIpv4Cidr("192.168.1.7/32", reason)->ToString(), "192.168.1.7/32");
  EXPECT_EQ(ParseIpv4Cidr("0.0.0.0/0", reason)->Mask(), 0u);
}

TEST(Ipv4Cidr, RefusesAnythingElse) {
  for (const char* text :
       {"", "10.0.0.0", "10.0.0.0/", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/+8", "10.0.0.0/08",
        "10.0.0.0/8 ", " 10.0.0.0/8", "10.0.0/8", "010.0.0.0/8", "10.0.0.256/32", "10.1.0.0/8",
        "ten.0.0.0/8", "10.0.0.0/8;flush ruleset", "10.0.0.0/8/8", "::1/128"}) {
    std::string reason;
    EXPECT_FALSE(ParseIpv4Cidr(text, reason)) << text;
    EXPECT_NE(reason, "") << text;
  }
}

TEST(Ipv4Cidr, HostBitsAreNamedInTheReason) {
  std::string reason;
  EXPECT_FALSE(ParseIpv4Cidr("10.1.2.3/8", reason));
  EXPECT_NE(reason.find("10.0.0.0/8"), std::string::npos) << reason;
}

TEST(Ipv4Endpoint, RoundTripsThroughSockaddr) {
  const Ipv4Endpoint endpoint{0x0a000001, 8080};
  EXPECT_EQ(Ipv4Endpoint::FromSockaddr(endpoint.ToSockaddr()), endpoint);
  EXPECT_EQ(endpoint.Text(), "10.0.0.1:8080");
  EXPECT_EQ(Ipv4Endpoint{0xc0a80a01}.AddressText(), "192.168.10.1");
}

TEST(Ipv4Prefix, TextsInOrder) {
  EXPECT_EQ(PrefixTexts({*ParseIpv4Prefix("10.0.0.0/8"), *ParseIpv4Prefix("10.1.0.2/24")}),
            (std::vector<std::string>{"10.0.0.0/8", "10.1.0.2/24"}));
}

}  // namespace
}  // namespace tp
