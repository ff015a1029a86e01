#include "common/netlink.h"

#include <gtest/gtest.h>
#include <netlink/errno.h>

#include <string>

namespace tp {
namespace {

TEST(NetlinkTest, OpensARouteSocketInTheCurrentNamespace) {
  std::string error;
  NlSocketPtr socket = OpenRouteSocket(error);
  ASSERT_NE(socket, nullptr) << error;
  EXPECT_TRUE(error.empty());
}

TEST(NetlinkTest, ErrorTextIsLibnlsMessage) {
  EXPECT_EQ(NlErrorText(-NLE_NOMEM), std::string(nl_geterror(-NLE_NOMEM)));
  EXPECT_FALSE(NlErrorText(-NLE_OBJ_NOTFOUND).empty());
}

TEST(NetlinkTest, HandlesReleaseTheirObjects) {
  // Under ASan a leaked reference would be reported at exit.
  NlAddrPtr address;
  nl_addr* parsed = nullptr;
  ASSERT_EQ(nl_addr_parse("10.1.2.3/24", AF_INET, &parsed), 0);
  address.reset(parsed);
  EXPECT_EQ(nl_addr_get_prefixlen(address.get()), 24u);
  RtnlLinkPtr link(rtnl_link_alloc());
  ASSERT_NE(link, nullptr);
  RtnlRoutePtr route(rtnl_route_alloc());
  ASSERT_NE(route, nullptr);
  RtnlVethLinkPtr veth(rtnl_link_veth_alloc());
  ASSERT_NE(veth, nullptr);
}

}  // namespace
}  // namespace tp
