// libFuzzer target: every NetworkDriver.* request body through the shared plugin layer and
// teleroute's decoders (teleroute/network_api.h) into a driver that does nothing but answer with
// what it was given, so the reply encoders run on hostile strings too. Input format: see
// fuzz/plugin_call.h.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "fuzz/plugin_call.h"
#include "teleroute/network_api.h"

namespace {

using tp::teleroute::CreateEndpointRequest;
using tp::teleroute::CreateNetworkRequest;
using tp::teleroute::EndpointInterface;
using tp::teleroute::JoinReply;
using tp::teleroute::JoinRequest;
using tp::teleroute::NetworkDriver;

class EchoingNetworkDriver : public NetworkDriver {
 public:
  std::string Scope() const override { return "local"; }
  void CreateNetwork(const CreateNetworkRequest&) override {}
  void DeleteNetwork(const std::string&) override {}
  EndpointInterface CreateEndpoint(const CreateEndpointRequest& request) override {
    return request.interface;
  }
  void DeleteEndpoint(const std::string&, const std::string&) override {}
  std::map<std::string, std::string> EndpointOperInfo(const std::string& network_id,
                                                      const std::string& endpoint_id) override {
    return {{network_id, endpoint_id}};
  }
  JoinReply Join(const JoinRequest& request) override {
    JoinReply reply;
    reply.src_name = request.endpoint_id;
    reply.static_routes.push_back({request.sandbox_key, 0, request.network_id});
    return reply;
  }
  void Leave(const std::string&, const std::string&) override {}
  void ProgramExternalConnectivity(const std::string&, const std::string&) override {}
  void RevokeExternalConnectivity(const std::string&, const std::string&) override {}
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tp::fuzz::QuietPluginLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static EchoingNetworkDriver driver;
  static const std::vector<tp::PluginRoute> routes = tp::teleroute::NetworkDriverRoutes(driver);
  tp::fuzz::CallPluginRoutes(routes, data, size);
  return 0;
}
