// RouteSource says which cluster subnets a new Teleroute network routes via its daemon.
// FixedRouteSource answers with the network's own `subnets` option; a later implementation asks
// the daemon over HTTP. Changes after creation reach the driver through
// TelerouteDriver::UpdateRoutes.
#pragma once

#include <string>
#include <vector>

#include "common/ipv4.h"

namespace tp::teleroute {

class RouteSource {
 public:
  virtual ~RouteSource() = default;
  // `configured` is the network's `subnets` option (possibly empty), `daemon` its daemon address.
  // Throws std::exception with a sentence when the subnets cannot be known.
  virtual std::vector<Ipv4Prefix> InitialSubnets(const std::string& network_id, Ipv4Address daemon,
                                                 const std::vector<Ipv4Prefix>& configured) = 0;
};

class FixedRouteSource : public RouteSource {
 public:
  std::vector<Ipv4Prefix> InitialSubnets(const std::string&, Ipv4Address,
                                         const std::vector<Ipv4Prefix>& configured) override {
    return configured;
  }
};

}  // namespace tp::teleroute
