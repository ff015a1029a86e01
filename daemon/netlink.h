// Owning handles for libnl objects (each freed with its own libnl function) and a connected
// NETLINK_ROUTE socket. The socket belongs to the network namespace of the thread that opened
// it, whichever thread uses it later.
#pragma once

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/route/rule.h>
#include <netlink/socket.h>

#include <memory>
#include <string>

namespace tp::daemon {

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

// A NETLINK_ROUTE socket of the calling thread's network namespace; nullptr with `error` set.
NlSocketPtr OpenRouteSocket(std::string& error);

// libnl's message for a (negative) libnl error code.
std::string NlErrorText(int error);

}  // namespace tp::daemon
