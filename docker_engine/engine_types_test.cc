#include "docker_engine/engine_types.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "docker_engine/engine_client.h"

namespace tp::docker {
namespace {

using nlohmann::json;

TEST(EngineTypesTest, DaemonLikeSpecBecomesTheCreateBodyDockerRunWouldSend) {
  ContainerSpec spec{.name = "tp-default-cn",
                     .image = "tp-daemon:latest",
                     .cmd = {"--manager", "172.17.0.1:18081"},
                     .env = {"TP_CONTROL_TOKEN=abc"},
                     .labels = {{"tp.daemon", "default"}},
                     .cap_add = {"NET_ADMIN"},
                     .devices = {"/dev/net/tun"},
                     .ports = {{"8787/tcp", "127.0.0.1", ""}},
                     .binds = {{"/home/u/secret", "/run/secrets/s", true}},
                     .auto_remove = true};
  json body = json::parse(EncodeContainerCreate(spec));
  EXPECT_EQ(body["Image"], "tp-daemon:latest");
  EXPECT_EQ(body["Cmd"], json({"--manager", "172.17.0.1:18081"}));
  EXPECT_EQ(body["Env"], json({"TP_CONTROL_TOKEN=abc"}));
  EXPECT_EQ(body["Labels"], json({{"tp.daemon", "default"}}));
  EXPECT_EQ(body["ExposedPorts"], json({{"8787/tcp", json::object()}}));
  EXPECT_FALSE(body.contains("Entrypoint"));
  const json& host = body["HostConfig"];
  EXPECT_EQ(host["AutoRemove"], true);
  EXPECT_EQ(host["CapAdd"], json({"NET_ADMIN"}));
  EXPECT_EQ(host["Binds"], json({"/home/u/secret:/run/secrets/s:ro"}));
  EXPECT_EQ(host["PortBindings"]["8787/tcp"][0], json({{"HostIp", "127.0.0.1"}, {"HostPort", ""}}));
  EXPECT_EQ(host["Devices"][0]["PathOnHost"], "/dev/net/tun");
  EXPECT_FALSE(host.contains("NetworkMode"));
  EXPECT_FALSE(host.contains("Privileged"));
}

TEST(EngineTypesTest, ContainerInspectGivesStatePortsEnvAndAddresses) {
  const char* body = R"({"Id":"abc","Name":"/tp-default-cn",
    "State":{"Status":"running","ExitCode":0},
    "Config":{"Image":"tp-daemon:latest","Env":["A=1","TP_CONTROL_TOKEN=t"],"Labels":{"tp.daemon":"default"}},
    "NetworkSettings":{"Ports":{"53/udp":null,"8787/tcp":[{"HostIp":"127.0.0.1","HostPort":"49153"}]},
      "Networks":{"bridge":{"IPAddress":"172.17.0.2"},"tp-default":{"IPAddress":"10.200.0.2"}}}})";
  EngineResult<ContainerInfo> info = DecodeContainerInspect(body);
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info.value().name, "tp-default-cn");
  EXPECT_EQ(info.value().state, "running");
  EXPECT_EQ(info.value().env.at(1), "TP_CONTROL_TOKEN=t");
  ASSERT_EQ(info.value().published_ports.size(), 1u);
  EXPECT_EQ(info.value().published_ports[0].host_port, "49153");
  EXPECT_EQ(info.value().network_ipv4.at("tp-default"), "10.200.0.2");
  EXPECT_EQ(info.value().labels.at("tp.daemon"), "default");
}

TEST(EngineTypesTest, MalformedAnswersAreProtocolErrorsNamingTheField) {
  EngineResult<ContainerInfo> not_json = DecodeContainerInspect("<html>");
  ASSERT_FALSE(not_json.ok());
  EXPECT_EQ(not_json.error().kind, EngineErrorKind::kProtocol);
  EngineResult<ContainerInfo> wrong_type = DecodeContainerInspect(R"({"Config":{"Env":"A=1"}})");
  ASSERT_FALSE(wrong_type.ok());
  EXPECT_NE(wrong_type.error().message.find("'Env'"), std::string::npos);
  EXPECT_FALSE(DecodeNetworkList(R"({"Name":"x"})").ok());
}

TEST(EngineTypesTest, ImageListGivesSortedTagsWithoutUntagged) {
  EngineResult<std::vector<std::string>> tags = DecodeImageListTags(R"([
      {"Id":"sha256:1","RepoTags":["tp-echo:latest","tp-echo:dev"]},
      {"Id":"sha256:2","RepoTags":["<none>:<none>"]},
      {"Id":"sha256:3","RepoTags":null},
      {"Id":"sha256:4","RepoTags":["alpine:3"]}])");
  ASSERT_TRUE(tags.ok()) << tags.error().message;
  EXPECT_EQ(tags.value(), (std::vector<std::string>{"alpine:3", "tp-echo:dev", "tp-echo:latest"}));
  EXPECT_FALSE(DecodeImageListTags(R"({"not":"a list"})").ok());
}

TEST(EngineTypesTest, NullsAndMissingFieldsAreEmpty) {
  EngineResult<ContainerInfo> info =
      DecodeContainerInspect(R"({"Id":"x","Config":{"Labels":null,"Env":null}})");
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(info.value().labels.empty());
  EXPECT_TRUE(info.value().env.empty());
  EXPECT_TRUE(info.value().published_ports.empty());
}

TEST(EngineTypesTest, NetworkInspectGivesSubnetsOptionsAndSortedContainers) {
  const char* body = R"([{"Name":"tp-default","Id":"n1","Driver":"teleroute:latest",
    "IPAM":{"Config":[{"Subnet":"10.200.0.0/24","Gateway":"10.200.0.1"}]},
    "Options":{"routes":"10.213.0.0/24"},"Labels":{"tp.daemon":"default"},
    "Containers":{"c2":{"Name":"z","IPv4Address":"10.200.0.3/24"},
                  "c1":{"Name":"a","IPv4Address":"10.200.0.2/24"}}},
    {"Name":"bridge","Id":"b","Driver":"bridge","IPAM":{"Config":[{"Subnet":"172.17.0.0/16"}]}}])";
  EngineResult<std::vector<NetworkInfo>> networks = DecodeNetworkList(body);
  ASSERT_TRUE(networks.ok()) << networks.error().message;
  ASSERT_EQ(networks.value().size(), 2u);
  const NetworkInfo& teleroute = networks.value()[0];
  EXPECT_EQ(teleroute.subnets, std::vector<std::string>{"10.200.0.0/24"});
  EXPECT_EQ(teleroute.gateways, std::vector<std::string>{"10.200.0.1"});
  EXPECT_EQ(teleroute.options.at("routes"), "10.213.0.0/24");
  ASSERT_EQ(teleroute.containers.size(), 2u);
  EXPECT_EQ(teleroute.containers[0].name, "a");
  EXPECT_EQ(teleroute.containers[0].ipv4_address, "10.200.0.2/24");
  EXPECT_TRUE(networks.value()[1].gateways.empty());  // an engine's first start
}

TEST(EngineTypesTest, NetworkAndVolumeCreateBodies) {
  json network = json::parse(EncodeNetworkCreate(
      {.name = "tp-x",
       .driver = "teleroute:latest",
       .pools = {{.subnet = "10.200.0.0/24", .gateway = "10.200.0.1", .aux_addresses = {}}},
       .options = {{"k", "v"}},
       .labels = {{"tp.daemon", "x"}}}));
  EXPECT_EQ(network["Driver"], "teleroute:latest");
  EXPECT_EQ(network["IPAM"]["Config"][0],
            json({{"Subnet", "10.200.0.0/24"}, {"Gateway", "10.200.0.1"}}));
  EXPECT_EQ(network["Options"]["k"], "v");
  json volume = json::parse(EncodeVolumeCreate(
      {.name = "v", .driver = "telemount", .driver_options = {{"host", "h"}}, .labels = {}}));
  EXPECT_EQ(volume["Driver"], "telemount");
  EXPECT_EQ(volume["DriverOpts"]["host"], "h");
  EXPECT_FALSE(network.contains("EnableIPv6"));
}

TEST(EngineTypesTest, ADualStackNetworkAndASysctlReachTheirFields) {
  json network = json::parse(EncodeNetworkCreate(
      {.name = "tp-x",
       .driver = "teleroute:latest",
       .enable_ipv6 = true,
       .pools = {{.subnet = "10.200.0.0/24", .gateway = "10.200.0.1", .aux_addresses = {}},
                 {.subnet = "fd74::/64", .gateway = "fd74::1", .aux_addresses = {}}},
       .options = {},
       .labels = {}}));
  EXPECT_EQ(network["EnableIPv6"], true);
  EXPECT_EQ(network["IPAM"]["Config"][1], json({{"Subnet", "fd74::/64"}, {"Gateway", "fd74::1"}}));
  ContainerSpec spec{.image = "i", .sysctls = {{"net.ipv6.conf.all.disable_ipv6", "0"}}};
  json body = json::parse(EncodeContainerCreate(spec));
  EXPECT_EQ(body["HostConfig"]["Sysctls"], json({{"net.ipv6.conf.all.disable_ipv6", "0"}}));
}

TEST(EngineTypesTest, EventsPluginsVolumesAndErrors) {
  EngineResult<EngineEvent> event = DecodeEvent(
      R"({"Type":"container","Action":"die","Actor":{"ID":"abc","Attributes":{"name":"x","exitCode":"3"}},"timeNano":12})");
  ASSERT_TRUE(event.ok()) << event.error().message;
  EXPECT_EQ(event.value().action, "die");
  EXPECT_EQ(event.value().attributes.at("exitCode"), "3");
  EngineResult<std::vector<PluginInfo>> plugins =
      DecodePluginList(R"([{"Name":"teleroute:latest","Enabled":true},{"Name":"t:latest"}])");
  ASSERT_TRUE(plugins.ok());
  EXPECT_TRUE(plugins.value()[0].enabled);
  EXPECT_FALSE(plugins.value()[1].enabled);
  EngineResult<std::vector<VolumeInfo>> volumes = DecodeVolumeList(
      R"({"Volumes":[{"Name":"v","Driver":"local","Labels":null}],"Warnings":null})");
  ASSERT_TRUE(volumes.ok());
  EXPECT_EQ(volumes.value().at(0).name, "v");
  EXPECT_EQ(DecodeErrorMessage(R"({"message":"No such container: x"})"), "No such container: x");
  EXPECT_EQ(DecodeErrorMessage("plain text\n"), "plain text");
}

TEST(EngineTypesTest, APluginsVersionIsItsConfigsNotItsSettings) {
  // After `docker plugin upgrade` the settings keep the old value; the config has the new one.
  EngineResult<PluginInfo> plugin = DecodePlugin(R"({"Name":"telemount:latest","Enabled":false,
      "PluginReference":"127.0.0.1:5000/telemount:0.2.0",
      "Settings":{"Env":["DEBUG=0","TELEPRESENCE_VERSION=0.1.0"]},
      "Config":{"Env":[{"Name":"DEBUG","Value":"0"},
                       {"Name":"TELEPRESENCE_VERSION","Settable":[],"Value":"0.2.0"}]}})");
  ASSERT_TRUE(plugin.ok()) << plugin.error().message;
  EXPECT_EQ(plugin.value().version, "0.2.0");
  EXPECT_EQ(plugin.value().reference, "127.0.0.1:5000/telemount:0.2.0");
  EngineResult<PluginInfo> unversioned =
      DecodePlugin(R"({"Name":"x:latest","Config":{"Env":[{"Name":"DEBUG","Value":"0"}]}})");
  ASSERT_TRUE(unversioned.ok());
  EXPECT_EQ(unversioned.value().version, "");
}

TEST(EngineTypesTest, PluginPrivilegesAreGrantedBackExactlyAsAsked) {
  const std::string asked =
      R"([{"Name":"network","Description":"permissions to access a network","Value":["host"]},)"
      R"({"Name":"capabilities","Description":"list of additional capabilities required",)"
      R"("Value":["CAP_SYS_ADMIN"]}])";
  EngineResult<std::vector<PluginPrivilege>> privileges = DecodePluginPrivileges(asked);
  ASSERT_TRUE(privileges.ok()) << privileges.error().message;
  ASSERT_EQ(privileges.value().size(), 2u);
  EXPECT_EQ(privileges.value()[1].values, std::vector<std::string>{"CAP_SYS_ADMIN"});
  EXPECT_EQ(nlohmann::json::parse(EncodePluginPrivileges(privileges.value())),
            nlohmann::json::parse(asked));
}

TEST(EngineTypesTest, PluginProgressFailsOnAnErrorMessageAmongTheLines) {
  EXPECT_TRUE(DecodePluginProgress("{\"status\":\"Pulling\"}\n{\"status\":\"Done\"}\n", "x").ok());
  EXPECT_TRUE(DecodePluginProgress("", "x").ok());
  EngineResult<std::monostate> failed = DecodePluginProgress(
      "{\"status\":\"Pulling\"}\n{\"errorDetail\":{\"message\":\"denied\"},\"error\":\"denied\"}\n",
      "install plugin r/t:1");
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().message, "Docker cannot install plugin r/t:1: denied");
}

TEST(EngineTypesTest, FiltersAreJsonOfLists) {
  EXPECT_EQ(EncodeFilters({{"label", {"tp.daemon=x"}}, {"type", {"container"}}}),
            R"({"label":["tp.daemon=x"],"type":["container"]})");
}

TEST(EngineTypesTest, LineSplitterJoinsLinesAcrossChunks) {
  LineSplitter splitter;
  EXPECT_TRUE(splitter.Feed("{\"a\"").empty());
  EXPECT_EQ(splitter.Feed(":1}\n{\"b\":2}\n{"),
            (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(splitter.Feed("}\n"), std::vector<std::string>{"{}"});
}

TEST(EngineTypesTest, LogDemuxerSplitsFramesAcrossChunks) {
  std::string stream = std::string("\x01\0\0\0\0\0\0\x03out", 11) + std::string(
                                                                        "\x02\0\0\0\0\0\0\x04"
                                                                        "err\n",
                                                                        12);
  LogDemuxer demuxer;
  std::vector<LogDemuxer::Frame> first = demuxer.Feed(stream.substr(0, 13));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].stream, LogDemuxer::Stream::kStdout);
  EXPECT_EQ(first[0].payload, "out");
  std::vector<LogDemuxer::Frame> second = demuxer.Feed(stream.substr(13));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].stream, LogDemuxer::Stream::kStderr);
  EXPECT_EQ(second[0].payload, "err\n");
}

TEST(EngineTypesTest, DockerHostUnixOrDefaultOthersRefused) {
  EXPECT_EQ(SocketPathFromDockerHost(std::nullopt).value(), "/var/run/docker.sock");
  EXPECT_EQ(SocketPathFromDockerHost("").value(), "/var/run/docker.sock");
  EXPECT_EQ(SocketPathFromDockerHost("unix:///tmp/d.sock").value(), "/tmp/d.sock");
  EngineResult<std::string> tcp = SocketPathFromDockerHost("tcp://1.2.3.4:2375");
  ASSERT_FALSE(tcp.ok());
  EXPECT_EQ(tcp.error().kind, EngineErrorKind::kUnsupported);
  EXPECT_NE(tcp.error().message.find("tcp://1.2.3.4:2375"), std::string::npos);
}

TEST(EngineClientTest, AnUnusableClientFailsEveryCallWithItsReason) {
  EngineResult<std::string> tcp = SocketPathFromDockerHost("tcp://1.2.3.4:2375");
  ASSERT_FALSE(tcp.ok());
  const EngineClient client = EngineClient::Unusable(tcp.error());
  EngineResult<std::optional<ContainerInfo>> info = client.InspectContainer("x");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().message, tcp.error().message);
  EngineStatus events =
      client.Events({}, std::chrono::system_clock::now(), std::chrono::milliseconds(100),
                    [](const EngineEvent&) { return true; });
  ASSERT_FALSE(events.ok());
  EXPECT_EQ(events.error().kind, EngineErrorKind::kUnsupported);
}

TEST(EngineClientTest, AbsentSocketSaysHowToStartDockerd) {
  EngineClient client("/nonexistent/docker.sock", std::chrono::seconds(2));
  EngineResult<std::optional<ContainerInfo>> info = client.InspectContainer("x");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.error().kind, EngineErrorKind::kUnreachable);
  EXPECT_NE(info.error().message.find(kStartDockerdAdvice), std::string::npos)
      << info.error().message;
  EXPECT_NE(
      info.error().message.find("unix:///nonexistent/docker.sock (its socket does not exist)"),
      std::string::npos)
      << info.error().message;
}

}  // namespace
}  // namespace tp::docker
