#include "api/engagement.h"

#include <gtest/gtest.h>

namespace tp::api {
namespace {

using nlohmann::json;

// Reads `body` with `read` and expects it refused with `expected`.
template <typename Read>
void ExpectRefused(Read read, const char* body, const std::string& expected) {
  std::string error;
  EXPECT_FALSE(read(json::parse(body), error)) << body;
  EXPECT_EQ(error, expected) << body;
}

TEST(EngageRequestCodecTest, ReadsBackWhatItWrites) {
  const EngageRequest request{.workload = "echo",
                              .mode = EngagementMode::kIntercept,
                              .ports = {8080, 9090},
                              .name = "mine",
                              .sftp_client = "172.17.0.1"};
  std::string error;
  EXPECT_EQ(EngageRequestFromJson(EngageRequestToJson(request), error), request) << error;
  EXPECT_EQ(EngageRequestToJson(request), json::parse(R"({"workload":"echo","mode":"intercept",
      "ports":[8080,9090],"name":"mine","sftp_client":"172.17.0.1"})"));
  const auto minimal =
      EngageRequestFromJson(json::parse(R"({"workload":"w","mode":"ingest"})"), error);
  ASSERT_TRUE(minimal) << error;
  EXPECT_EQ(*minimal, (EngageRequest{.workload = "w", .mode = EngagementMode::kIngest}));
}

TEST(EngageRequestCodecTest, WrongFieldsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"mode":"replace"})", "field 'workload' is not a workload's name"},
      {R"({"workload":7,"mode":"replace"})", "field 'workload' is not a string"},
      {R"({"workload":"w"})", "field 'mode' is not one of replace, intercept, ingest, wiretap"},
      {R"({"workload":"w","mode":"borrow"})",
       "field 'mode' is not one of replace, intercept, ingest, wiretap"},
      {R"({"workload":"w","mode":"replace","ports":[70000]})",
       "field 'ports' is not a list of ports (1..65535)"},
      {R"({"workload":"w","mode":"replace","ports":[0]})",
       "field 'ports' is not a list of ports (1..65535)"},
      {R"({"workload":"w","mode":"replace","name":1})", "field 'name' is not a string"},
      {R"({"workload":"w","mode":"replace","sftp_client":"x"})",
       "field 'sftp_client' is not an IPv4 address"},
      {R"([])", "not a JSON object"},
  };
  for (const auto& [body, expected] : cases) ExpectRefused(EngageRequestFromJson, body, expected);
}

TEST(HandlerBodyCodecTest, ReadsBackWhatItWrites) {
  const HandlerBody body{.address = "10.200.0.130", .ports = {{8080, 8081}, {9090, 9090}}};
  std::string error;
  EXPECT_EQ(HandlerBodyFromJson(HandlerBodyToJson(body), error), body) << error;
  EXPECT_EQ(HandlerBodyToJson(body),
            json::parse(R"({"address":"10.200.0.130","ports":{"8080":8081,"9090":9090}})"));
}

TEST(HandlerBodyCodecTest, WrongFieldsAreNamed) {
  ExpectRefused(HandlerBodyFromJson, R"({"address":"handler.local"})",
                "field 'address' is not the handler's IPv4 address");
  ExpectRefused(HandlerBodyFromJson, R"({"ports":{}})",
                "field 'address' is not the handler's IPv4 address");
  ExpectRefused(HandlerBodyFromJson, R"({"address":"10.0.0.1","ports":{"http":80}})",
                "field 'ports' is not a map of workload ports to handler ports (1..65535); "
                "\"http\": 80 is not");
  ExpectRefused(HandlerBodyFromJson, R"({"address":"10.0.0.1","ports":[80]})",
                "field 'ports' is not a map of workload ports to handler ports (1..65535)");
}

TEST(EngagementGrantCodecTest, ReadsBackWhatItWritesAndIgnoresTheRest) {
  const EngagementGrant grant{.id = "e-1",
                              .container = "echo",
                              .ports = {8080},
                              .sftp_port = 40022,
                              .sftp_token = "0123456789abcdef0123456789abcdef",
                              .env = {{"ECHO_MESSAGE", "hello"}},
                              .mounts = {"/srv/echo-data", "/etc/config"},
                              .mount_policies = {{"/etc/config", MountPolicy::kRemoteReadOnly}}};
  std::string error;
  EXPECT_EQ(EngagementGrantFromJson(EngagementGrantToJson(grant), error), grant) << error;
  EXPECT_EQ(EngagementGrantToJson(grant).at("mount_policies").at("/etc/config"), "RemoteReadOnly");
  json more = EngagementGrantToJson(grant);
  more["workload"] = "echo";
  more["address"] = "10.0.0.3";
  EXPECT_EQ(EngagementGrantFromJson(more, error), grant) << error;
}

TEST(EngagementGrantCodecTest, WrongFieldsAreNamed) {
  ExpectRefused(EngagementGrantFromJson, R"({"container":"echo"})",
                "field 'id' is not an engagement's id");
  ExpectRefused(EngagementGrantFromJson, R"({"id":"e","sftp_port":"22"})",
                "field 'sftp_port' is not a count");
  ExpectRefused(EngagementGrantFromJson, R"({"id":"e","env":{"A":1}})",
                "field 'env' is not a map of strings");
  ExpectRefused(EngagementGrantFromJson, R"({"id":"e","mounts":"/srv"})",
                "field 'mounts' is not a list of strings");
  ExpectRefused(EngagementGrantFromJson, R"({"id":"e","mount_policies":{"/srv":"ReadOnly"}})",
                "field 'mount_policies' is not a map of paths to Remote, RemoteReadOnly, Local, "
                "Ignore");
}

TEST(MountPolicyTest, NamesReadBackAndAMissingPathIsRemote) {
  for (const MountPolicy policy : {MountPolicy::kRemote, MountPolicy::kRemoteReadOnly,
                                   MountPolicy::kLocal, MountPolicy::kIgnore}) {
    EXPECT_EQ(ParseMountPolicy(MountPolicyName(policy)), policy);
  }
  EXPECT_EQ(ParseMountPolicy("remote"), std::nullopt) << "the names are the agent's, exactly";
  EXPECT_EQ(PolicyOf({{"/a", MountPolicy::kLocal}}, "/a"), MountPolicy::kLocal);
  EXPECT_EQ(PolicyOf({{"/a", MountPolicy::kLocal}}, "/b"), MountPolicy::kRemote);
  EXPECT_EQ(PolicyOf({{"/a/", MountPolicy::kLocal}}, "/a"), MountPolicy::kLocal);
  EXPECT_EQ(Stricter(MountPolicy::kRemoteReadOnly, MountPolicy::kRemote),
            MountPolicy::kRemoteReadOnly);
  EXPECT_EQ(Stricter(MountPolicy::kRemoteReadOnly, MountPolicy::kLocal), MountPolicy::kLocal);
}

TEST(EngagementListCodecTest, WorkloadsAndEngagementsReadBack) {
  const EngagementSummary summary{.id = "e-1", .mode = "intercept", .name = "mine", .ports = {80}};
  const std::vector<WorkloadInfo> workloads{{.workload = "echo",
                                             .ports = {80, 90},
                                             .mounts = {"/srv"},
                                             .mount_policies = {{"/srv", MountPolicy::kLocal}},
                                             .engagement = summary},
                                            {.workload = "db", .ports = {5432}}};
  std::string error;
  EXPECT_EQ(WorkloadListFromJson(WorkloadListToJson(workloads), error), workloads) << error;
  EXPECT_EQ(WorkloadListToJson(workloads).at("workloads").at(1).at("engagement"), nullptr);
  const std::vector<EngagementSummary> engagements{summary};
  EXPECT_EQ(EngagementListFromJson(EngagementListToJson(engagements), error), engagements) << error;
}

TEST(EngagementListCodecTest, WrongFieldsAreNamed) {
  ExpectRefused(WorkloadListFromJson, R"({"nope":1})", "field 'workloads' is not a list");
  ExpectRefused(WorkloadListFromJson, R"({"workloads":[{"workload":"w","ports":"80"}]})",
                "field 'ports' is not a list of ports (1..65535)");
  ExpectRefused(WorkloadListFromJson, R"({"workloads":[{"workload":"w","engagement":[]}]})",
                "field 'engagement' is not an object");
  ExpectRefused(WorkloadListFromJson, R"({"workloads":[1]})", "a workload is not a JSON object");
  ExpectRefused(EngagementListFromJson, R"({"engagements":[{"id":5}]})",
                "field 'id' is not a string");
  ExpectRefused(EngagementListFromJson, R"([])", "not a JSON object");
}

}  // namespace
}  // namespace tp::api
