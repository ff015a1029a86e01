#include "net/host_port.h"

#include <gtest/gtest.h>

namespace tp {
namespace {

TEST(HostPortTest, SplitsNamesIpv4AndBracketedIpv6) {
  EXPECT_EQ(ParseHostPort("127.0.0.1:8081"), (HostPort{"127.0.0.1", 8081}));
  EXPECT_EQ(ParseHostPort("tp-traffic-manager:1"), (HostPort{"tp-traffic-manager", 1}));
  EXPECT_EQ(ParseHostPort("[::1]:65535"), (HostPort{"::1", 65535}));
  EXPECT_EQ(ParseHostPort("0.0.0.0:0"), (HostPort{"0.0.0.0", 0}));
}

TEST(HostPortTest, RefusesWhatIsNotOneHostAndOnePort) {
  for (const char* text :
       {"", "127.0.0.1", ":8081", "[]:1", "host:", "host:-1", "host:+1", "host:65536", "host:1x",
        "host: 1", "::1:53", "[::1:53", "a[b]:1", "[::1]x:53"}) {
    EXPECT_FALSE(ParseHostPort(text)) << text;
  }
}

TEST(HostPortTest, TextReadsBackAsTheSameAddress) {
  for (const HostPort& address :
       {HostPort{"10.0.0.1", 53}, HostPort{"fd00::1", 8080}, HostPort{"echo.default", 1}}) {
    EXPECT_EQ(ParseHostPort(HostPortText(address)), address) << HostPortText(address);
  }
  EXPECT_EQ(HostPortText({"::1", 22}), "[::1]:22");
}

TEST(HostPortTest, ServicePortsAreOneTo65535) {
  EXPECT_EQ(ParsePort("0"), 0);
  EXPECT_FALSE(ParseServicePort("0"));
  EXPECT_EQ(ParseServicePort("65535"), 65535);
  EXPECT_FALSE(ParseServicePort("65536"));
  EXPECT_FALSE(ParseServicePort(""));
  EXPECT_FALSE(ParseServicePort("80 "));
}

}  // namespace
}  // namespace tp
