#include "telemount/volume/volume_options.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tp::telemount {
namespace {

VolumeOptions Base() { return {{"host", "127.0.0.1"}, {"port", "2222"}, {"container", "echo"}}; }

VolumeOptions With(VolumeOptions options, const std::string& key, const std::string& value) {
  options[key] = value;
  return options;
}

VolumeOptions Without(VolumeOptions options, const std::string& key) {
  options.erase(key);
  return options;
}

// Expects ParseVolumeOptions to reject `options` with a message containing every fragment.
void ExpectRejected(const VolumeOptions& options, std::initializer_list<std::string> fragments) {
  try {
    ParseVolumeOptions(options);
    ADD_FAILURE() << "accepted options that should fail";
  } catch (const VolumeOptionError& error) {
    for (const std::string& fragment : fragments) {
      EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos)
          << "message \"" << error.what() << "\" lacks \"" << fragment << "\"";
    }
  }
}

TEST(VolumeOptions, MinimalAgentLayout) {
  VolumeSpec spec = ParseVolumeOptions(Base());
  EXPECT_EQ(spec.endpoint.host, "127.0.0.1");
  EXPECT_EQ(spec.endpoint.port, 2222);
  EXPECT_FALSE(spec.endpoint.read_only);
  EXPECT_EQ(spec.remote_folder, "/tel_app_exports/echo");
}

TEST(VolumeOptions, DirIsAppendedAndNormalized) {
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "dir", "srv/data")).remote_folder,
            "/tel_app_exports/echo/srv/data");
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "dir", "./srv//data/./")).remote_folder,
            "/tel_app_exports/echo/srv/data");
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "dir", "")).remote_folder, "/tel_app_exports/echo");
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "dir", ".")).remote_folder, "/tel_app_exports/echo");
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "dir", "a..b/..c")).remote_folder,
            "/tel_app_exports/echo/a..b/..c");
}

TEST(VolumeOptions, ReadOnlyValues) {
  for (const char* yes : {"", "true", "1", "yes"}) {
    EXPECT_TRUE(ParseVolumeOptions(With(Base(), "ro", yes)).endpoint.read_only) << yes;
  }
  for (const char* no : {"false", "0", "no"}) {
    EXPECT_FALSE(ParseVolumeOptions(With(Base(), "ro", no)).endpoint.read_only) << no;
  }
  ExpectRejected(With(Base(), "ro", "maybe"), {"\"ro\"", "maybe"});
}

TEST(VolumeOptions, TokenIsTheServersPrefaceToken) {
  const std::string token = "0123456789abcdef0123456789abcdef";
  EXPECT_EQ(ParseVolumeOptions(Base()).endpoint.token, "");
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "token", token)).endpoint.token, token);
  for (const std::string& bad :
       std::vector<std::string>{"", "0123", "0123456789ABCDEF0123456789ABCDEF", token + "0",
                                "0123456789abcdef0123456789abcde\n"}) {
    ExpectRejected(With(Base(), "token", bad), {"token", "32 lower-case hex digits"});
    try {
      ParseVolumeOptions(With(Base(), "token", bad));
    } catch (const VolumeOptionError& error) {
      if (!bad.empty()) {
        EXPECT_EQ(std::string(error.what()).find(bad), std::string::npos) << "never echoed";
      }
    }
  }
}

// Mount points are world-readable: an endpoint's key tells tokens apart without showing them.
TEST(VolumeOptions, EndpointKeyNeverHoldsTheToken) {
  RemoteEndpoint first = ParseVolumeOptions(Base()).endpoint;
  RemoteEndpoint second = first;
  first.token = "0123456789abcdef0123456789abcdef";
  second.token = "fedcba9876543210fedcba9876543210";
  EXPECT_EQ(first.Key().find(first.token), std::string::npos) << first.Key();
  EXPECT_NE(first.Key(), second.Key());
  EXPECT_NE(first.Key(), ParseVolumeOptions(Base()).endpoint.Key());
}

TEST(VolumeOptions, PortRange) {
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "port", "1")).endpoint.port, 1);
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "port", "65535")).endpoint.port, 65535);
  for (const char* bad : {"0", "65536", "abc", "22x", "-1", " 22", "+22", "99999999999"}) {
    ExpectRejected(With(Base(), "port", bad), {"\"port\"", "1 to 65535"});
  }
}

TEST(VolumeOptions, MissingRequiredOptions) {
  ExpectRejected(Without(Base(), "host"), {"missing required option \"host\""});
  ExpectRejected(Without(Base(), "port"), {"missing required option \"port\""});
  ExpectRejected(Without(Base(), "container"), {"missing required option \"container\""});
  ExpectRejected(With(Base(), "host", ""), {"\"host\"", "empty"});
  ExpectRejected(With(Base(), "port", ""), {"\"port\"", "empty"});
  ExpectRejected(With(Base(), "container", ""), {"\"container\"", "empty"});
}

TEST(VolumeOptions, UnknownOption) { ExpectRejected(With(Base(), "foo", "1"), {"unknown", "foo"}); }

TEST(VolumeOptions, BadHost) {
  ExpectRejected(With(Base(), "host", "a/b"), {"\"host\""});
  ExpectRejected(With(Base(), "host", "a b"), {"\"host\""});
  EXPECT_EQ(ParseVolumeOptions(With(Base(), "host", "echo.default")).endpoint.host, "echo.default");
}

TEST(VolumeOptions, ContainerIsOneComponent) {
  ExpectRejected(With(Base(), "container", ".."), {"\"container\""});
  ExpectRejected(With(Base(), "container", "."), {"\"container\""});
  ExpectRejected(With(Base(), "container", "a/b"), {"\"container\"", "a/b"});
  ExpectRejected(With(Base(), "container", "/etc"), {"\"container\""});
}

TEST(VolumeOptions, DirCannotEscape) {
  ExpectRejected(With(Base(), "dir", "../.."), {"\"dir\"", ".."});
  ExpectRejected(With(Base(), "dir", "a/../b"), {"\"dir\"", ".."});
  ExpectRejected(With(Base(), "dir", "a/.."), {"\"dir\"", ".."});
  ExpectRejected(With(Base(), "dir", "/etc"), {"\"dir\"", "relative"});
}

TEST(VolumeOptions, NulIsRejected) {
  ExpectRejected(With(Base(), "dir", std::string("a\0b", 3)), {"\"dir\"", "NUL"});
}

TEST(VolumeOptions, DirectPath) {
  VolumeOptions direct = {{"host", "h"}, {"port", "22"}, {"path", "/srv//data/."}};
  EXPECT_EQ(ParseVolumeOptions(direct).remote_folder, "/srv/data");
  EXPECT_EQ(ParseVolumeOptions(With(direct, "path", "/")).remote_folder, "/");
  ExpectRejected(With(direct, "path", "srv"), {"\"path\"", "absolute"});
  ExpectRejected(With(direct, "path", "/srv/../etc"), {"\"path\"", ".."});
  ExpectRejected(With(direct, "path", ""), {"\"path\"", "empty"});
  ExpectRejected(With(direct, "container", "echo"), {"\"path\"", "container"});
  ExpectRejected(With(direct, "dir", "x"), {"\"path\"", "dir"});
}

TEST(VolumeNames, DockerRule) {
  EXPECT_TRUE(IsValidVolumeName("a"));
  EXPECT_TRUE(IsValidVolumeName("tp-test-1_a.b"));
  EXPECT_FALSE(IsValidVolumeName(""));
  EXPECT_FALSE(IsValidVolumeName("-a"));
  EXPECT_FALSE(IsValidVolumeName(".a"));
  EXPECT_FALSE(IsValidVolumeName("a/b"));
  EXPECT_FALSE(IsValidVolumeName("a b"));
}

}  // namespace
}  // namespace tp::telemount
