#include "teleroute/network_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>

#include "net/unique_fd.h"

namespace tp::teleroute {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Records the decoded requests; knows network "n1" and its endpoint "e1"; "broken" fails.
class FakeDriver : public NetworkDriver {
 public:
  std::string Scope() const override { return "local"; }
  void CreateNetwork(const CreateNetworkRequest& request) override {
    if (request.network_id == "broken") throw std::runtime_error("option daemon is required");
    created = request;
  }
  void DeleteNetwork(const std::string& network_id) override { KnownNetwork(network_id); }
  EndpointInterface CreateEndpoint(const CreateEndpointRequest& request) override {
    KnownNetwork(request.network_id);
    endpoint = request;
    return filled;
  }
  void DeleteEndpoint(const std::string& n, const std::string& e) override { Known(n, e); }
  std::map<std::string, std::string> EndpointOperInfo(const std::string& n,
                                                      const std::string& e) override {
    Known(n, e);
    return {};
  }
  JoinReply Join(const JoinRequest& request) override {
    Known(request.network_id, request.endpoint_id);
    joined = request;
    JoinReply reply;
    reply.src_name = "trc0123456789ab";
    reply.static_routes = {{"10.96.0.0/12", 0, "10.1.0.2"}};
    return reply;
  }
  void Leave(const std::string& n, const std::string& e) override { Known(n, e); }
  void ProgramExternalConnectivity(const std::string& n, const std::string& e) override {
    Known(n, e);
  }
  void RevokeExternalConnectivity(const std::string& n, const std::string& e) override {
    Known(n, e);
  }

  CreateNetworkRequest created;
  CreateEndpointRequest endpoint;
  JoinRequest joined;
  EndpointInterface filled;

 private:
  void KnownNetwork(const std::string& id) {
    if (id != "n1") throw std::runtime_error("no such teleroute network " + id);
  }
  void Known(const std::string& network_id, const std::string& endpoint_id) {
    KnownNetwork(network_id);
    if (endpoint_id != "e1") throw std::runtime_error("no such endpoint " + endpoint_id);
  }
};

struct HttpReply {
  int status = 0;
  json body;
};

// Sends one HTTP/1.1 POST over the Unix socket the way dockerd does and reads the whole reply.
HttpReply Post(const std::string& socket_path, const std::string& method, const std::string& body) {
  UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, socket_path.c_str(), sizeof(address.sun_path) - 1);
  if (::connect(fd.Get(), reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) return {};
  const std::string request = "POST /" + method +
                              " HTTP/1.1\r\nHost: plugin\r\nConnection: close\r\n"
                              "Accept: application/vnd.docker.plugins.v1.2+json\r\n"
                              "Content-Length: " +
                              std::to_string(body.size()) + "\r\n\r\n" + body;
  if (::write(fd.Get(), request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    return {};
  }
  std::string raw;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd.Get(), buffer, sizeof(buffer))) > 0) raw.append(buffer, n);
  HttpReply reply;
  if (raw.size() < 12) return reply;
  reply.status = std::stoi(raw.substr(9, 3));
  const size_t body_start = raw.find("\r\n\r\n");
  if (body_start != std::string::npos) {
    reply.body = json::parse(raw.substr(body_start + 4), nullptr, false);
  }
  return reply;
}

class NetworkApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("teleroute-api-test-" + std::to_string(::getpid()));
    socket_ = (dir_ / "teleroute.sock").string();
    server_ = std::make_unique<PluginServer>(socket_, std::vector<std::string>{"NetworkDriver"});
    server_->AddRoutes(NetworkDriverRoutes(driver_));
    server_->Start();
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Calls NetworkDriver.`method` over the socket; expects a 200 and returns the body.
  json Call(const std::string& method, const std::string& body) {
    HttpReply reply = Post(socket_, "NetworkDriver." + method, body);
    EXPECT_EQ(reply.status, 200) << method << " " << body << " -> " << reply.body.dump();
    return reply.body;
  }
  // Calls with a request that must fail; returns the Err text, and checks that the server still
  // answers the next request.
  std::string ErrorOf(const std::string& method, const std::string& body) {
    HttpReply reply = Post(socket_, "NetworkDriver." + method, body);
    EXPECT_NE(reply.status, 200) << method << " " << body;
    EXPECT_TRUE(reply.body.is_object() && reply.body.contains("Err") &&
                reply.body["Err"].is_string())
        << reply.body.dump();
    EXPECT_EQ(Call("GetCapabilities", ""), json({{"Scope", "local"}})) << "after " << body;
    return reply.body.value("Err", std::string("(no Err)"));
  }

  FakeDriver driver_;
  std::filesystem::path dir_;
  std::string socket_;
  std::unique_ptr<PluginServer> server_;
};

TEST_F(NetworkApiTest, ActivateSaysNetworkDriver) {
  HttpReply reply = Post(socket_, "Plugin.Activate", "");
  EXPECT_EQ(reply.body, json::parse(R"({"Implements":["NetworkDriver"]})"));
}

TEST_F(NetworkApiTest, CapabilitiesAreLocal) {
  EXPECT_EQ(Call("GetCapabilities", ""), json::parse(R"({"Scope":"local"})"));
}

TEST_F(NetworkApiTest, CreateNetworkDecodesOptionsAndIpam) {
  const std::string body = R"({"NetworkID":"n1","Options":{
      "com.docker.network.enable_ipv6":false,
      "com.docker.network.generic":{"daemon":"10.1.0.2","subnets":"10.96.0.0/12"}},
    "IPv4Data":[{"AddressSpace":"LocalDefault","Pool":"10.1.0.0/24","Gateway":"10.1.0.1/24",
                 "AuxAddresses":{"x":"10.1.0.9"}}],
    "IPv6Data":[]})"
                           "\n";
  EXPECT_EQ(Call("CreateNetwork", body), json::object());
  EXPECT_EQ(driver_.created.network_id, "n1");
  EXPECT_EQ(driver_.created.options, (std::map<std::string, std::string>{
                                         {"daemon", "10.1.0.2"}, {"subnets", "10.96.0.0/12"}}));
  EXPECT_FALSE(driver_.created.enable_ipv6);
  ASSERT_EQ(driver_.created.ipv4_data.size(), 1u);
  EXPECT_EQ(driver_.created.ipv4_data[0],
            (IpamData{"LocalDefault", "10.1.0.0/24", "10.1.0.1/24", {{"x", "10.1.0.9"}}}));
  EXPECT_TRUE(driver_.created.ipv6_data.empty());
}

TEST_F(NetworkApiTest, EndpointCallsHaveDockersShape) {
  EXPECT_EQ(Call("CreateEndpoint",
                 R"({"NetworkID":"n1","EndpointID":"e1","Interface":{"Address":"10.1.0.3/24",
                     "AddressIPv6":"","MacAddress":""},"Options":{}})"),
            json::parse(R"({"Interface":{}})"));
  EXPECT_EQ(driver_.endpoint.interface.address, "10.1.0.3/24");
  driver_.filled.mac_address = "02:42:0a:01:00:03";
  EXPECT_EQ(Call("CreateEndpoint", R"({"NetworkID":"n1","EndpointID":"e1","Interface":null})"),
            json::parse(R"({"Interface":{"MacAddress":"02:42:0a:01:00:03"}})"));
  EXPECT_EQ(Call("EndpointOperInfo", R"({"NetworkID":"n1","EndpointID":"e1"})"),
            json::parse(R"({"Value":{}})"));
  EXPECT_EQ(Call("Join", R"({"NetworkID":"n1","EndpointID":"e1",
                             "SandboxKey":"/var/run/docker/netns/abc","Options":{}})"),
            json::parse(R"({"InterfaceName":{"SrcName":"trc0123456789ab","DstPrefix":"eth"},
                            "StaticRoutes":[{"Destination":"10.96.0.0/12","RouteType":0,
                                             "NextHop":"10.1.0.2"}],
                            "DisableGatewayService":false})"));
  EXPECT_EQ(driver_.joined.sandbox_key, "/var/run/docker/netns/abc");
  for (const char* method :
       {"ProgramExternalConnectivity", "RevokeExternalConnectivity", "Leave", "DeleteEndpoint"}) {
    EXPECT_EQ(Call(method, R"({"NetworkID":"n1","EndpointID":"e1","Options":{}})"), json::object())
        << method;
  }
  EXPECT_EQ(Call("DeleteNetwork", R"({"NetworkID":"n1"})"), json::object());
}

TEST_F(NetworkApiTest, JoinReplyHasNoGateway) {
  const json reply = Call("Join", R"({"NetworkID":"n1","EndpointID":"e1","SandboxKey":"/x"})");
  EXPECT_FALSE(reply.contains("Gateway"));
  EXPECT_FALSE(reply.contains("GatewayIPv6"));
}

TEST_F(NetworkApiTest, SwarmCallsAreAnsweredHarmlessly) {
  for (const char* method : {"AllocateNetwork", "FreeNetwork", "DiscoverNew", "DiscoverDelete"}) {
    EXPECT_EQ(Call(method, R"({"NetworkID":"n1","DiscoveryType":1,"DiscoveryData":{}})"),
              json::object())
        << method;
  }
}

TEST_F(NetworkApiTest, MalformedRequestsGetErrAndTheServerKeepsServing) {
  EXPECT_THAT(ErrorOf("CreateNetwork", "{not json"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf("CreateNetwork", "[1,2]"), HasSubstr("not a JSON object"));
  EXPECT_THAT(ErrorOf("CreateNetwork", "{}"), HasSubstr("missing field \"NetworkID\""));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":7})"),
              HasSubstr("\"NetworkID\" must be a string"));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":"n1","Options":"x"})"),
              HasSubstr("\"Options\" must be an object"));
  EXPECT_THAT(
      ErrorOf("CreateNetwork", R"({"NetworkID":"n1","Options":{"com.docker.network.generic":[]}})"),
      HasSubstr("\"com.docker.network.generic\" must be an object"));
  EXPECT_THAT(ErrorOf("CreateNetwork",
                      R"({"NetworkID":"n1","Options":{"com.docker.network.generic":{"a":1}}})"),
              HasSubstr("option \"a\" must have a string value"));
  EXPECT_THAT(ErrorOf("CreateNetwork",
                      R"({"NetworkID":"n1","Options":{"com.docker.network.enable_ipv6":3}})"),
              HasSubstr("must be a boolean"));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":"n1","IPv4Data":{}})"),
              HasSubstr("\"IPv4Data\" must be a list"));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":"n1","IPv4Data":[3]})"),
              HasSubstr("entries of \"IPv4Data\" must be objects"));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":"n1","IPv4Data":[{"Gateway":"x"}]})"),
              HasSubstr("missing field \"Pool\""));
  EXPECT_THAT(ErrorOf("CreateNetwork", R"({"NetworkID":"broken"})"),
              HasSubstr("option daemon is required"));
  EXPECT_THAT(ErrorOf("CreateEndpoint", R"({"NetworkID":"n1"})"),
              HasSubstr("missing field \"EndpointID\""));
  EXPECT_THAT(ErrorOf("CreateEndpoint", R"({"NetworkID":"n1","EndpointID":"e1","Interface":5})"),
              HasSubstr("\"Interface\" must be an object"));
  EXPECT_THAT(ErrorOf("CreateEndpoint",
                      R"({"NetworkID":"n1","EndpointID":"e1","Interface":{"Address":1}})"),
              HasSubstr("\"Address\" must be a string"));
  EXPECT_THAT(ErrorOf("CreateEndpoint", R"({"NetworkID":"nx","EndpointID":"e1"})"),
              HasSubstr("no such teleroute network nx"));
  EXPECT_THAT(ErrorOf("Join", R"({"NetworkID":"n1","EndpointID":"e1"})"),
              HasSubstr("missing field \"SandboxKey\""));
  EXPECT_THAT(ErrorOf("Join", R"({"NetworkID":"n1","EndpointID":"ex","SandboxKey":"/x"})"),
              HasSubstr("no such endpoint ex"));
  for (const char* method : {"EndpointOperInfo", "Leave", "DeleteEndpoint",
                             "ProgramExternalConnectivity", "RevokeExternalConnectivity"}) {
    EXPECT_THAT(ErrorOf(method, R"({"NetworkID":"n1","EndpointID":"ex"})"),
                HasSubstr("no such endpoint ex"))
        << method;
    EXPECT_THAT(ErrorOf(method, R"({"NetworkID":"n1"})"), HasSubstr("missing field \"EndpointID\""))
        << method;
  }
  EXPECT_THAT(ErrorOf("DeleteNetwork", R"({"NetworkID":"nx"})"),
              HasSubstr("no such teleroute network nx"));
  EXPECT_THAT(ErrorOf("Nope", "{}"), HasSubstr("unknown plugin method"));
}

}  // namespace
}  // namespace tp::teleroute
