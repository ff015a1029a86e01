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
  ASSERT_EQ(selected.skipped.size(), 4u);
  EXPECT_NE(selected.skipped[0].find("IPv6"), std::string::npos);
  EXPECT_NE(selected.skipped[1].find("every address"), std::string::npos);
  EXPECT_NE(selected.skipped[2].find("loopback"), std::string::npos);
  EXPECT_EQ(selected.skipped[3].rfind("junk: ", 0), 0u);
}

}  // namespace
}  // namespace tp::daemon
