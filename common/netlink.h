// Owning handles for libnl objects (each freed with its own libnl function, one owner per object)
// and a connected NETLINK_ROUTE socket, shared by the daemon and teleroute. A socket belongs to
// the network namespace of the thread that opened it, whichever thread uses it later. A handle
// is not thread-safe; use one per thread or lock around it.
#pragma once

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/socket.h>

#include <memory>
#include <span>
#include <string>

namespace tp {

template <typename Object, void (*Free)(Object*)>
struct NlFree {
  void operator()(Object* object) const { Free(object); }
};

using NlSocketPtr = std::unique_ptr<nl_sock, NlFree<nl_sock, nl_socket_free>>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlFree<nl_addr, nl_addr_put>>;
using NlCachePtr = std::unique_ptr<nl_cache, NlFree<nl_cache, nl_cache_free>>;
using RtnlRulePtr = std::unique_ptr<rtnl_rule, NlFree<rtnl_rule, rtnl_rule_put>>;
using RtnlRoutePtr = std::unique_ptr<rtnl_route, NlFree<rtnl_route, rtnl_route_put>>;
using RtnlNexthopPtr = std::unique_ptr<rtnl_nexthop, NlFree<rtnl_nexthop, rtnl_route_nh_free>>;
using RtnlLinkPtr = std::unique_ptr<rtnl_link, NlFree<rtnl_link, rtnl_link_put>>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, NlFree<rtnl_addr, rtnl_addr_put>>;
// A new veth link owns a peer link object that rtnl_link_put alone does not release.
using RtnlVethLinkPtr = std::unique_ptr<rtnl_link, NlFree<rtnl_link, rtnl_link_veth_release>>;

// A NETLINK_ROUTE socket of the calling thread's network namespace; nullptr with `error` set
// ("netlink: ...").
NlSocketPtr OpenRouteSocket(std::string& error);

// A route of `family` to `destination`/`prefix_length` straight out of interface `ifindex` (no
// gateway), in `table`; the caller sets its type, scope, protocol and metric. nullptr when out of
// memory.
RtnlRoutePtr DeviceRoute(int family, std::span<const uint8_t> destination, int prefix_length,
                         uint32_t table, int ifindex);

// The interface index of `lo` in the socket's namespace; 0 with `error` set when it cannot be had.
int LoopbackIndex(nl_sock* socket, std::string& error);

// libnl's message for a (negative) libnl error code.
std::string NlErrorText(int error);

}  // namespace tp
