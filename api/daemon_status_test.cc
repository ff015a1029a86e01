#include "api/daemon_status.h"

#include <gtest/gtest.h>

namespace tp::api {
namespace {

using nlohmann::json;

DaemonStatus Full() {
  return {.connected = true,
          .manager = "172.17.0.1:18081",
          .subnets = {"10.213.0.0/24"},
          .dns_address = "10.200.0.2:53",
          .dns_search = {"default.svc.cluster.local", "cluster.local"},
          .error = "",
          .reconnects = 3,
          .capture = {.enabled = true,
                      .active = true,
                      .port = 15001,
                      .subnets = {"10.213.0.0/24"},
                      .error = ""}};
}

TEST(DaemonStatusCodecTest, ReadsBackWhatItWrites) {
  std::string error;
  const auto read = DaemonStatusFromJson(DaemonStatusToJson(Full()), error);
  ASSERT_TRUE(read) << error;
  EXPECT_EQ(*read, Full());
}

TEST(DaemonStatusCodecTest, WritesTheDocumentedFields) {
  const json body = DaemonStatusToJson(Full());
  EXPECT_EQ(body.at("dns").at("address"), "10.200.0.2:53");
  EXPECT_EQ(body.at("capture").at("port"), 15001);
  EXPECT_EQ(body.at("subnets"), json::array({"10.213.0.0/24"}));
}

TEST(DaemonStatusCodecTest, MissingFieldsKeepDefaultsAndUnknownOnesAreIgnored) {
  std::string error;
  const auto read = DaemonStatusFromJson(json::parse(R"({"connected":true,"new":1})"), error);
  ASSERT_TRUE(read) << error;
  EXPECT_TRUE(read->connected);
  EXPECT_TRUE(read->subnets.empty());
  EXPECT_EQ(read->capture, CaptureStatus{});
}

TEST(DaemonStatusCodecTest, WrongTypesNameTheField) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"connected":"yes"})", "field 'connected' is not true or false"},
      {R"({"subnets":"10.0.0.0/8"})", "field 'subnets' is not a list of strings"},
      {R"({"subnets":[1]})", "field 'subnets' is not a list of strings"},
      {R"({"dns":[]})", "field 'dns' is not an object"},
      {R"({"reconnects":-1})", "field 'reconnects' is not a count"},
      {R"({"capture":{"port":70000}})", "field 'port' is not a port (0..65535)"},
      {R"([])", "not a JSON object"},
  };
  for (const auto& [body, expected] : cases) {
    std::string error;
    EXPECT_FALSE(DaemonStatusFromJson(json::parse(body), error)) << body;
    EXPECT_EQ(error, expected) << body;
  }
}

}  // namespace
}  // namespace tp::api
