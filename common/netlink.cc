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
