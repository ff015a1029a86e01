// The choice of subnets to capture.
#include "daemon/capture_subnets.h"

#include <gtest/gtest.h>

namespace tp::daemon {
namespace {

TEST(CaptureSubnets, DropsNestedNetworksAndSkipsWhatCannotBeCaptured) {
  const CaptureSubnets selected =
      SelectCaptureSubnets({"10.96.0.0/12", "10.0.0.0/8", "fd00::/64", "0.0.0.0/0", "127.0.0.0/16",
                            "junk", "192.168.77.0/24", "10.0.0.0/8", "172.18.0.0/16"});
  EXPECT_EQ(PrefixTexts(selected.networks),
            (std::vector<std::string>{"10.0.0.0/8", "172.18.0.0/16", "192.168.77.0/24"}));
  EXPECT_EQ(PrefixTexts(selected.networks6), std::vector<std::string>{"fd00::/64"});
  ASSERT_EQ(selected.skipped.size(), 3u);
  EXPECT_NE(selected.skipped[0].find("every address"), std::string::npos);
  EXPECT_NE(selected.skipped[1].find("loopback"), std::string::npos);
  EXPECT_EQ(selected.skipped[2].rfind("junk: ", 0), 0u);
}

TEST(CaptureSubnets, Ipv6NetworksFollowTheSameRules) {
  const CaptureSubnets selected =
      SelectCaptureSubnets({"fd00:213::/64", "fd00::/16", "fd00:213::1/64", "::/0", "::1/128",
                            "fe80::/64", "::/1", "2001:db8::/32"});
  EXPECT_EQ(PrefixTexts(selected.networks6),
            (std::vector<std::string>{"2001:db8::/32", "fd00::/16"}));
  ASSERT_EQ(selected.skipped.size(), 5u);
  EXPECT_NE(selected.skipped[0].find("host bits"), std::string::npos) << selected.skipped[0];
  EXPECT_NE(selected.skipped[1].find("every address"), std::string::npos);
  EXPECT_NE(selected.skipped[2].find("loopback"), std::string::npos);
  EXPECT_NE(selected.skipped[3].find("link-local"), std::string::npos);
  EXPECT_NE(selected.skipped[4].find("loopback"), std::string::npos) << "::/1 holds ::1";
}

}  // namespace
}  // namespace tp::daemon
