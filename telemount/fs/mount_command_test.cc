#include "telemount/fs/mount_command.h"

#include <gtest/gtest.h>

namespace tp::telemount {
namespace {

std::optional<MountRequest> Parse(const std::vector<std::string>& arguments,
                                  std::string* error = nullptr) {
  std::string ignored;
  return ParseMountArguments(arguments, error ? error : &ignored);
}

TEST(ParseMountArguments, HostPortPathAndMountpoint) {
  auto request = Parse({"10.0.0.1:2222:/srv/data/", "/mnt/x"});
  ASSERT_TRUE(request);
  EXPECT_EQ(request->host, "10.0.0.1");
  EXPECT_EQ(request->port, 2222);
  EXPECT_EQ(request->remote_path, "/srv/data");
  EXPECT_EQ(request->mountpoint, "/mnt/x");
  EXPECT_FALSE(request->read_only);
}

TEST(ParseMountArguments, BracketedIpv6AndDefaultRoot) {
  auto request = Parse({"[::1]:22:", "/m"});
  ASSERT_TRUE(request);
  EXPECT_EQ(request->host, "::1");
  EXPECT_EQ(request->remote_path, "/");
}

TEST(ParseMountArguments, OptionsInOneOrSeveralFlags) {
  auto request = Parse({"h:1:/", "/m", "-o", "ro,request_timeout=2.5", "-o", "cache_timeout=0"});
  ASSERT_TRUE(request);
  EXPECT_TRUE(request->read_only);
  EXPECT_EQ(request->settings.request_timeout.count(), 2500);
  EXPECT_EQ(request->settings.cache_timeout.count(), 0);
}

TEST(ParseMountArguments, ErrorsNameTheProblem) {
  std::string error;
  EXPECT_FALSE(Parse({"h:0:/", "/m"}, &error));
  EXPECT_NE(error.find("port must be a number from 1 to 65535"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"h:99999:/", "/m"}, &error));
  EXPECT_FALSE(Parse({"h:22:relative", "/m"}, &error));
  EXPECT_NE(error.find("absolute"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"h:22:/", "/m", "-o", "bogus"}, &error));
  EXPECT_NE(error.find("unknown option 'bogus'"), std::string::npos) << error;
  EXPECT_FALSE(Parse({"h:22:/", "/m", "-o", "request_timeout=soon"}, &error));
  EXPECT_FALSE(Parse({"h:22:/"}, &error));
  EXPECT_FALSE(Parse({"nohostport", "/m"}, &error));
  EXPECT_FALSE(Parse({"h:22:/", "/m", "--fast"}, &error));
  EXPECT_FALSE(Parse({"h:22:/", "/m", "-o"}, &error));
}

}  // namespace
}  // namespace tp::telemount
