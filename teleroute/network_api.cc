#include "teleroute/network_api.h"

#include <functional>
#include <string>

namespace tp::teleroute {
namespace {

using nlohmann::json;

// The field `name` of `request` when present and not null, else nullptr.
const json* FindField(const json& request, const char* name) {
  auto it = request.find(name);
  return it == request.end() || it->is_null() ? nullptr : &*it;
}

const json* OptionalObject(const json& request, const char* name) {
  const json* field = FindField(request, name);
  if (field && !field->is_object()) {
    throw PluginError(std::string("field \"") + name + "\" must be an object");
  }
  return field;
}

std::map<std::string, std::string> DecodeStringMap(const json* object, const std::string& what) {
  std::map<std::string, std::string> values;
  if (!object) return values;
  for (const auto& [key, value] : object->items()) {
    if (!value.is_string()) {
      throw PluginError(what + " \"" + key + "\" must have a string value");
    }
    values[key] = value.get<std::string>();
  }
  return values;
}

bool DecodeFlag(const json& options, const char* name) {
  const json* flag = FindField(options, name);
  if (!flag) return false;
  if (flag->is_boolean()) return flag->get<bool>();
  if (flag->is_string()) return flag->get<std::string>() == "true";
  throw PluginError(std::string("option \"") + name + "\" must be a boolean");
}

std::vector<IpamData> DecodeIpamData(const json& request, const char* name) {
  std::vector<IpamData> entries;
  const json* list = FindField(request, name);
  if (!list) return entries;
  if (!list->is_array()) throw PluginError(std::string("field \"") + name + "\" must be a list");
  for (const json& entry : *list) {
    if (!entry.is_object()) {
      throw PluginError(std::string("entries of \"") + name + "\" must be objects");
    }
    entries.push_back(IpamData{
        .address_space = OptionalString(entry, "AddressSpace"),
        .pool = RequireString(entry, "Pool"),
        .gateway = OptionalString(entry, "Gateway"),
        .aux_addresses =
            DecodeStringMap(OptionalObject(entry, "AuxAddresses"), "auxiliary address"),
    });
  }
  return entries;
}

using RequestHandler = std::function<json(NetworkDriver&, const json&)>;

// Runs a handler, turning driver failures into PluginError so every error reaches dockerd with
// the driver's sentence.
PluginHandler Guarded(NetworkDriver& driver, RequestHandler handler) {
  return [&driver, handler = std::move(handler)](const json& request) -> json {
    try {
      return handler(driver, request);
    } catch (const PluginError&) {
      throw;
    } catch (const std::exception& error) {
      throw PluginError(error.what());
    }
  };
}

// A handler for the calls whose request is {NetworkID, EndpointID} and whose reply is {}.
RequestHandler EndpointCall(void (NetworkDriver::*method)(const std::string&, const std::string&)) {
  return [method](NetworkDriver& driver, const json& request) {
    const std::string network_id = RequireString(request, "NetworkID");
    const std::string endpoint_id = RequireString(request, "EndpointID");
    (driver.*method)(network_id, endpoint_id);
    return json::object();
  };
}

json Empty(NetworkDriver&, const json&) { return json::object(); }

}  // namespace

CreateNetworkRequest DecodeCreateNetwork(const json& request) {
  CreateNetworkRequest decoded;
  decoded.network_id = RequireString(request, "NetworkID");
  if (const json* options = OptionalObject(request, "Options")) {
    decoded.options =
        DecodeStringMap(OptionalObject(*options, "com.docker.network.generic"), "option");
    decoded.enable_ipv6 = DecodeFlag(*options, "com.docker.network.enable_ipv6");
  }
  decoded.ipv4_data = DecodeIpamData(request, "IPv4Data");
  decoded.ipv6_data = DecodeIpamData(request, "IPv6Data");
  return decoded;
}

CreateEndpointRequest DecodeCreateEndpoint(const json& request) {
  CreateEndpointRequest decoded;
  decoded.network_id = RequireString(request, "NetworkID");
  decoded.endpoint_id = RequireString(request, "EndpointID");
  if (const json* interface = OptionalObject(request, "Interface")) {
    decoded.interface.address = OptionalString(*interface, "Address");
    decoded.interface.address_ipv6 = OptionalString(*interface, "AddressIPv6");
    decoded.interface.mac_address = OptionalString(*interface, "MacAddress");
  }
  OptionalObject(request, "Options");  // checked for shape only
  return decoded;
}

JoinRequest DecodeJoin(const json& request) {
  JoinRequest decoded;
  decoded.network_id = RequireString(request, "NetworkID");
  decoded.endpoint_id = RequireString(request, "EndpointID");
  decoded.sandbox_key = RequireString(request, "SandboxKey");
  OptionalObject(request, "Options");
  return decoded;
}

json EncodeEndpointInterface(const EndpointInterface& interface) {
  json encoded = json::object();
  if (!interface.address.empty()) encoded["Address"] = interface.address;
  if (!interface.address_ipv6.empty()) encoded["AddressIPv6"] = interface.address_ipv6;
  if (!interface.mac_address.empty()) encoded["MacAddress"] = interface.mac_address;
  return encoded;
}

json EncodeJoinReply(const JoinReply& reply) {
  json routes = json::array();
  for (const StaticRoute& route : reply.static_routes) {
    json encoded = {{"Destination", route.destination}, {"RouteType", route.route_type}};
    if (!route.next_hop.empty()) encoded["NextHop"] = route.next_hop;
    routes.push_back(std::move(encoded));
  }
  return {{"InterfaceName", {{"SrcName", reply.src_name}, {"DstPrefix", reply.dst_prefix}}},
          {"StaticRoutes", std::move(routes)},
          {"DisableGatewayService", reply.disable_gateway_service}};
}

std::vector<PluginRoute> NetworkDriverRoutes(NetworkDriver& driver) {
  const std::vector<std::pair<const char*, RequestHandler>> table = {
      {"GetCapabilities",
       [](NetworkDriver& d, const json&) {
         return json{{"Scope", d.Scope()}};
       }},
      {"CreateNetwork",
       [](NetworkDriver& d, const json& request) {
         d.CreateNetwork(DecodeCreateNetwork(request));
         return json::object();
       }},
      {"DeleteNetwork",
       [](NetworkDriver& d, const json& request) {
         d.DeleteNetwork(RequireString(request, "NetworkID"));
         return json::object();
       }},
      {"CreateEndpoint",
       [](NetworkDriver& d, const json& request) {
         const EndpointInterface filled = d.CreateEndpoint(DecodeCreateEndpoint(request));
         return json{{"Interface", EncodeEndpointInterface(filled)}};
       }},
      {"EndpointOperInfo",
       [](NetworkDriver& d, const json& request) {
         const std::string network_id = RequireString(request, "NetworkID");
         const std::string endpoint_id = RequireString(request, "EndpointID");
         json value = d.EndpointOperInfo(network_id, endpoint_id);
         return json{{"Value", value.is_null() ? json::object() : value}};
       }},
      {"DeleteEndpoint", EndpointCall(&NetworkDriver::DeleteEndpoint)},
      {"Join", [](NetworkDriver& d,
                  const json& request) { return EncodeJoinReply(d.Join(DecodeJoin(request))); }},
      {"Leave", EndpointCall(&NetworkDriver::Leave)},
      {"ProgramExternalConnectivity", EndpointCall(&NetworkDriver::ProgramExternalConnectivity)},
      {"RevokeExternalConnectivity", EndpointCall(&NetworkDriver::RevokeExternalConnectivity)},
      {"AllocateNetwork", Empty},
      {"FreeNetwork", Empty},
      {"DiscoverNew", Empty},
      {"DiscoverDelete", Empty},
  };
  std::vector<PluginRoute> routes;
  for (const auto& [method, handler] : table) {
    routes.push_back({std::string("NetworkDriver.") + method, Guarded(driver, handler)});
  }
  return routes;
}

}  // namespace tp::teleroute
