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

std::string NlErrorText(int error) { return nl_geterror(error); }

}  // namespace tp
