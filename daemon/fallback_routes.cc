#include "daemon/fallback_routes.h"

#include <linux/rtnetlink.h>
#include <netinet/in.h>
#include <netlink/errno.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <iterator>

namespace tp::daemon {
namespace {

constexpr uint32_t kLastResortMetric = 0xffffffff;

// `NETWORK dev lo metric 4294967295 proto 116` in the main table.
RtnlRoutePtr FallbackRoute(const Ipv6Prefix& network, int loopback_index) {
  RtnlRoutePtr route =
      DeviceRoute(AF_INET6, network.address, network.length, RT_TABLE_MAIN, loopback_index);
  if (!route) return nullptr;
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_protocol(route.get(), kFallbackRouteProtocol);
  rtnl_route_set_priority(route.get(), kLastResortMetric);
  return route;
}

// Elements of `a` that are not in `b`; both sorted.
std::vector<Ipv6Prefix> Difference(const std::vector<Ipv6Prefix>& a,
                                   const std::vector<Ipv6Prefix>& b) {
  std::vector<Ipv6Prefix> result;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(result));
  return result;
}

}  // namespace

std::unique_ptr<FallbackRoutes> FallbackRoutes::Open(std::string& error) {
  NlSocketPtr socket = OpenRouteSocket(error);
  if (!socket) return nullptr;
  const int loopback_index = LoopbackIndex(socket.get(), error);
  if (loopback_index <= 0) return nullptr;
  std::unique_ptr<FallbackRoutes> routes(new FallbackRoutes(std::move(socket), loopback_index));
  routes->RemoveAll();
  return routes;
}

FallbackRoutes::~FallbackRoutes() { RemoveAll(); }

bool FallbackRoutes::Replace(std::vector<Ipv6Prefix> networks, std::string& error) {
  std::sort(networks.begin(), networks.end());
  bool ok = true;
  for (const Ipv6Prefix& network : Difference(routed_, networks)) {
    const RtnlRoutePtr route = FallbackRoute(network, loopback_index_);
    const int result = route ? rtnl_route_delete(socket_.get(), route.get(), 0) : -NLE_NOMEM;
    if (result < 0 && result != -NLE_OBJ_NOTFOUND) {
      error =
          "cannot remove the fallback route of " + network.ToString() + ": " + NlErrorText(result);
      ok = false;
    }
  }
  for (const Ipv6Prefix& network : Difference(networks, routed_)) {
    const RtnlRoutePtr route = FallbackRoute(network, loopback_index_);
    const int result =
        route ? rtnl_route_add(socket_.get(), route.get(), NLM_F_CREATE | NLM_F_REPLACE)
              : -NLE_NOMEM;
    if (result < 0) {
      error = "cannot add the route `" + network.ToString() + " dev lo metric " +
              std::to_string(kLastResortMetric) + "`: " + NlErrorText(result);
      ok = false;
    }
  }
  routed_ = std::move(networks);
  return ok;
}

void FallbackRoutes::RemoveAll() {
  nl_cache* raw_cache = nullptr;
  if (const int result = rtnl_route_alloc_cache(socket_.get(), AF_INET6, 0, &raw_cache);
      result < 0) {
    spdlog::warn("capture: cannot list the IPv6 routes: {}", NlErrorText(result));
    return;
  }
  const NlCachePtr cache(raw_cache);
  for (nl_object* object = nl_cache_get_first(cache.get()); object;
       object = nl_cache_get_next(object)) {
    auto* route = reinterpret_cast<rtnl_route*>(object);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN ||
        rtnl_route_get_protocol(route) != kFallbackRouteProtocol) {
      continue;
    }
    if (const int result = rtnl_route_delete(socket_.get(), route, 0);
        result < 0 && result != -NLE_OBJ_NOTFOUND) {
      spdlog::warn("capture: cannot remove a fallback route: {}", NlErrorText(result));
    }
  }
  routed_.clear();
}

}  // namespace tp::daemon
