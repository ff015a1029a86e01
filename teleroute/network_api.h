// The NetworkDriver.* methods of the Docker plugin API (docker.networkdriver/1.0) as
// PluginRoutes, registered from one table: each handler decodes the request JSON into the
// structs of network_driver.h, calls the NetworkDriver and encodes the reply dockerd expects.
// Malformed requests and driver failures become PluginError ({"Err": ...}). The swarm-only calls
// (AllocateNetwork, FreeNetwork, DiscoverNew, DiscoverDelete) are answered {} without the driver.
#pragma once

#include <vector>

#include "common/plugin_server.h"
#include "teleroute/network_driver.h"

namespace tp::teleroute {

// The routes call `driver`, which must outlive them (and the PluginServer serving them).
std::vector<PluginRoute> NetworkDriverRoutes(NetworkDriver& driver);

// Pure codecs, exposed for tests. Decoders throw PluginError naming the bad field.
CreateNetworkRequest DecodeCreateNetwork(const nlohmann::json& request);
CreateEndpointRequest DecodeCreateEndpoint(const nlohmann::json& request);
JoinRequest DecodeJoin(const nlohmann::json& request);
nlohmann::json EncodeEndpointInterface(const EndpointInterface& interface);
nlohmann::json EncodeJoinReply(const JoinReply& reply);

}  // namespace tp::teleroute
