#include "cli/validation.h"

#include <gtest/gtest.h>

#include <string>

namespace tp::cli {
namespace {

TEST(ContextNameTest, AcceptsLowercaseLettersDigitsAndDashes) {
  EXPECT_TRUE(IsValidContextName("default"));
  EXPECT_TRUE(IsValidContextName("a"));
  EXPECT_TRUE(IsValidContextName("0prod-eu-1"));
  EXPECT_TRUE(IsValidContextName(std::string(63, 'a')));
}

TEST(ContextNameTest, RejectsEverythingElse) {
  EXPECT_FALSE(IsValidContextName(""));
  EXPECT_FALSE(IsValidContextName("-lead"));
  EXPECT_FALSE(IsValidContextName("Upper"));
  EXPECT_FALSE(IsValidContextName("under_score"));
  EXPECT_FALSE(IsValidContextName("../etc"));
  EXPECT_FALSE(IsValidContextName("a/b"));
  EXPECT_FALSE(IsValidContextName("a.json"));
  EXPECT_FALSE(IsValidContextName("sp ace"));
  EXPECT_FALSE(IsValidContextName(std::string(64, 'a')));
}

TEST(HostPortTest, AcceptsNamesIpv4AndBracketedIpv6) {
  EXPECT_TRUE(IsHostPort("127.0.0.1:8081"));
  EXPECT_TRUE(IsHostPort("tp-traffic-manager:1"));
  EXPECT_TRUE(IsHostPort("[::1]:65535"));
}

TEST(HostPortTest, RejectsMissingPartsAndBadPorts) {
  EXPECT_FALSE(IsHostPort("127.0.0.1"));
  EXPECT_FALSE(IsHostPort(":8081"));
  EXPECT_FALSE(IsHostPort("host:"));
  EXPECT_FALSE(IsHostPort("host:0"));
  EXPECT_FALSE(IsHostPort("host:65536"));
  EXPECT_FALSE(IsHostPort("host:80x"));
  EXPECT_FALSE(IsHostPort("host:-1"));
  EXPECT_FALSE(IsHostPort("::1:80"));
  EXPECT_FALSE(IsHostPort("ho st:80"));
}

TEST(LoopbackTest, LoopbackAndUnspecifiedAddressesAndLocalhostNames) {
  for (const char* address :
       {"127.0.0.1:8081", "127.1.2.3:1", "localhost:80", "LocalHost.:80", "a.localhost:80",
        "[::1]:80", "[0:0:0:0:0:0:0:1]:80", "[::ffff:127.0.0.1]:80", "0.0.0.0:80", "[::]:80"}) {
    EXPECT_TRUE(IsLoopbackHostPort(address)) << address;
  }
}

TEST(LoopbackTest, AddressesOtherContainersCanReach) {
  for (const char* address :
       {"172.17.0.1:18081", "10.0.0.1:80", "128.0.0.1:80", "tp-traffic-manager:8081",
        "localhost1:80", "[fe80::1]:80", "[::ffff:10.0.0.1]:80", "1270.0.0.1:80"}) {
    EXPECT_FALSE(IsLoopbackHostPort(address)) << address;
  }
}

}  // namespace
}  // namespace tp::cli
