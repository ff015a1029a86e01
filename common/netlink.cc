#include "common/netlink.h"

#include <netlink/errno.h>
#include <netlink/netlink.h>

namespace tp {

NlSocketPtr OpenRouteSocket(std::string& error) {
  NlSocketPtr socket(nl_socket_alloc());
  if (!socket) {
    error = "netlink: out of memory";
    return nullptr;
  }
  if (const int result = nl_connect(socket.get(), NETLINK_ROUTE); result < 0) {
    error = "netlink: " + NlErrorText(result);
    return nullptr;
  }
  return socket;
}

RtnlRoutePtr DeviceRoute(int family, std::span<const uint8_t> destination, int prefix_length,
                         uint32_t table, int ifindex) {
  RtnlRoutePtr route(rtnl_route_alloc());
  NlAddrPtr address(nl_addr_build(family, destination.data(), destination.size()));
  RtnlNexthopPtr next_hop(rtnl_route_nh_alloc());
  if (!route || !address || !next_hop) return nullptr;
  nl_addr_set_prefixlen(address.get(), prefix_length);
  rtnl_route_set_family(route.get(), static_cast<uint8_t>(family));
  rtnl_route_set_table(route.get(), table);
  if (rtnl_route_set_dst(route.get(), address.get()) < 0) return nullptr;  // takes a ref
  rtnl_route_nh_set_ifindex(next_hop.get(), ifindex);
  rtnl_route_add_nexthop(route.get(), next_hop.release());  // the route owns it now
  return route;
}

int LoopbackIndex(nl_sock* socket, std::string& error) {
  rtnl_link* found = nullptr;
  if (const int result = rtnl_link_get_kernel(socket, 0, "lo", &found); result < 0) {
    error = "cannot find the loopback interface: " + NlErrorText(result);
    return 0;
  }
  const RtnlLinkPtr link(found);
  return rtnl_link_get_ifindex(link.get());
}

std::string NlErrorText(int error) { return nl_geterror(error); }

}  // namespace tp
