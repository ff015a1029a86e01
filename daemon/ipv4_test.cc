// Strict IPv4 CIDR parsing and the choice of subnets to capture.
#include "daemon/ipv4.h"

#include <gtest/gtest.h>

namespace tp::daemon {
namespace {

TEST(Ipv4Cidr, ParsesCanonicalNetworks) {
  std::string reason;
  const auto cidr = ParseIpv4Cidr("10.96.0.0/12", reason);
  ASSERT_TRUE(cidr) << reason;
  EXPECT_EQ(cidr->network, 0x0a600000u);
  EXPECT_EQ(cidr->prefix_length, 12);
  EXPECT_EQ(cidr->Text(), "10.96.0.0/12");
  EXPECT_TRUE(cidr->Contains(0x0a6fffffu));
  EXPECT_FALSE(cidr->Contains(0x0a700000u));
  EXPECT_EQ(ParseIpv4Cidr("192.168.1.7/32", reason)->Text(), "192.168.1.7/32");
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

TEST(CaptureSubnets, DropsNestedNetworksAndSkipsWhatCannotBeCaptured) {
  const CaptureSubnets selected =
      SelectCaptureSubnets({"10.96.0.0/12", "10.0.0.0/8", "fd00::/64", "0.0.0.0/0", "127.0.0.0/16",
                            "junk", "192.168.77.0/24", "10.0.0.0/8", "172.18.0.0/16"});
  EXPECT_EQ(CidrTexts(selected.networks),
            (std::vector<std::string>{"10.0.0.0/8", "172.18.0.0/16", "192.168.77.0/24"}));
  ASSERT_EQ(selected.skipped.size(), 4u);
  EXPECT_NE(selected.skipped[0].find("IPv6"), std::string::npos);
  EXPECT_NE(selected.skipped[1].find("every address"), std::string::npos);
  EXPECT_NE(selected.skipped[2].find("loopback"), std::string::npos);
  EXPECT_EQ(selected.skipped[3].rfind("junk: ", 0), 0u);
}

TEST(Ipv4Endpoint, RoundTripsThroughSockaddr) {
  const Ipv4Endpoint endpoint{0x0a000001, 8080};
  EXPECT_EQ(Ipv4Endpoint::FromSockaddr(endpoint.ToSockaddr()), endpoint);
  EXPECT_EQ(endpoint.Text(), "10.0.0.1:8080");
}

}  // namespace
}  // namespace tp::daemon
