// RouteSource says which cluster subnets a new Teleroute network routes via its daemon.
// FixedRouteSource answers with the network's own `subnets` option; a later implementation asks
// the daemon over HTTP. Changes after creation reach the driver through
// TelerouteDriver::UpdateRoutes.
#pragma once

#include <string>
#include <vector>

#include "common/ipv4.h"
#include "teleroute/network_settings.h"

namespace tp::teleroute {

class RouteSource {
 public:
  virtual ~RouteSource() = default;
  // `configured` is the network's `subnets` option (possibly empty), `daemon` its daemon address.
  // Throws std::exception with a sentence when the subnets cannot be known.
  virtual ClusterSubnets InitialSubnets(const std::string& network_id, Ipv4Address daemon,
                                        const ClusterSubnets& configured) = 0;
};

class FixedRouteSource : public RouteSource {
 public:
  ClusterSubnets InitialSubnets(const std::string&, Ipv4Address,
                                const ClusterSubnets& configured) override {
    return configured;
  }
};

}  // namespace tp::teleroute
