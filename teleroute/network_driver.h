// NetworkDriver is the protocol-independent contract of a Docker network driver
// (docker.networkdriver/1.0): network_api.h decodes the NetworkDriver.* plugin calls into the
// structs below and calls it. Methods may be called concurrently; failures are thrown as
// std::exception whose what() is a sentence for the user (dockerd shows it).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tp::teleroute {

// One entry of CreateNetwork's IPv4Data / IPv6Data, as dockerd's IPAM allocated it.
struct IpamData {
  std::string address_space;
  std::string pool;     // "10.1.0.0/24"
  std::string gateway;  // "10.1.0.1/24"
  std::map<std::string, std::string> aux_addresses;
  bool operator==(const IpamData&) const = default;
};

struct CreateNetworkRequest {
  std::string network_id;
  std::map<std::string, std::string> options;  // the `-o` options (com.docker.network.generic)
  bool enable_ipv6 = false;
  std::vector<IpamData> ipv4_data;
  std::vector<IpamData> ipv6_data;
};

// The interface of an endpoint: in a request, what dockerd's IPAM gave ("" when nothing); in a
// reply, only the fields the driver fills (it may only fill fields dockerd left empty).
struct EndpointInterface {
  std::string address;       // "10.1.0.2/24"
  std::string address_ipv6;  // "fd00::2/64"
  std::string mac_address;   // "02:42:0a:01:00:02"
  bool operator==(const EndpointInterface&) const = default;
};

struct CreateEndpointRequest {
  std::string network_id;
  std::string endpoint_id;
  EndpointInterface interface;
};

struct StaticRoute {
  std::string destination;  // CIDR
  int route_type = 0;       // 0: via next_hop; 1: connected
  std::string next_hop;     // IP, for route_type 0
  bool operator==(const StaticRoute&) const = default;
};

struct JoinRequest {
  std::string network_id;
  std::string endpoint_id;
  std::string sandbox_key;  // the container's network namespace path
};

// Join's answer. There is deliberately no gateway: dockerd then adds docker_gwbridge for the
// default route and published ports.
struct JoinReply {
  std::string src_name;            // the container-side link, in the host namespace
  std::string dst_prefix = "eth";  // dockerd renames it dst_prefix + N in the container
  std::vector<StaticRoute> static_routes;
  bool disable_gateway_service = false;
};

class NetworkDriver {
 public:
  virtual ~NetworkDriver() = default;

  // "local" or "global".
  virtual std::string Scope() const = 0;
  virtual void CreateNetwork(const CreateNetworkRequest& request) = 0;
  virtual void DeleteNetwork(const std::string& network_id) = 0;
  // Returns the interface fields the driver filled in (only those dockerd left empty).
  virtual EndpointInterface CreateEndpoint(const CreateEndpointRequest& request) = 0;
  virtual void DeleteEndpoint(const std::string& network_id, const std::string& endpoint_id) = 0;
  // Free-form details for `docker inspect`; fails for an unknown endpoint.
  virtual std::map<std::string, std::string> EndpointOperInfo(const std::string& network_id,
                                                              const std::string& endpoint_id) = 0;
  virtual JoinReply Join(const JoinRequest& request) = 0;
  virtual void Leave(const std::string& network_id, const std::string& endpoint_id) = 0;
  // Published ports are handled by dockerd through docker_gwbridge, so these only check that the
  // endpoint is known.
  virtual void ProgramExternalConnectivity(const std::string& network_id,
                                           const std::string& endpoint_id) = 0;
  virtual void RevokeExternalConnectivity(const std::string& network_id,
                                          const std::string& endpoint_id) = 0;
};

}  // namespace tp::teleroute
