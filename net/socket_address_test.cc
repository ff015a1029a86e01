#include "net/socket_address.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/tcp_socket.h"

namespace tp {
namespace {

TEST(SocketAddressTest, EndpointsTakeAnOptionalPort) {
  EXPECT_EQ(EndpointText(ParseEndpoint("10.0.0.1", 53)->storage), "10.0.0.1:53");
  EXPECT_EQ(EndpointText(ParseEndpoint("127.0.0.1:5353", 53)->storage), "127.0.0.1:5353");
  EXPECT_EQ(EndpointText(ParseEndpoint("::1", 53)->storage), "[::1]:53");
  EXPECT_EQ(EndpointText(ParseEndpoint("[::1]:54", 53)->storage), "[::1]:54");
  // Without brackets, a last group is part of the address, never a port.
  EXPECT_EQ(EndpointText(ParseEndpoint("fd00::1:53", 53)->storage), "[fd00::1:53]:53");
}

TEST(SocketAddressTest, EndpointsAreNumericWithAPort) {
  for (const char* text : {"10.0.0.1:0", "10.0.0.1:70000", "dns.example:53", "dns.example", "",
                           "10.0.0.1:", "[::1]"}) {
    EXPECT_FALSE(ParseEndpoint(text, 53)) << text;
  }
}

TEST(SocketAddressTest, PeerOfAConnectionIsItsAddress) {
  std::string error;
  TcpListener listener = ListenTcp("127.0.0.1:0", error);
  ASSERT_TRUE(listener.socket.Valid()) << error;
  DialResult dial = DialTcp("127.0.0.1", static_cast<uint16_t>(listener.bound_port),
                            std::chrono::steady_clock::now() + std::chrono::seconds(2));
  ASSERT_TRUE(dial.socket.Valid()) << dial.message;
  EXPECT_EQ(PeerAddress(dial.socket.Get()), "127.0.0.1");
  EXPECT_EQ(PeerText(dial.socket.Get()), listener.BoundAddress());

  UniqueFd unconnected(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(PeerAddress(unconnected.Get()), "");
  EXPECT_EQ(PeerText(unconnected.Get()), "?");
}

TEST(TcpSocketTest, ListenRefusesMalformedAddressesAndDialReportsRefusal) {
  std::string error;
  EXPECT_FALSE(ListenTcp(":2222", error).socket.Valid());
  EXPECT_EQ(error, "expected HOST:PORT, got ':2222'");
  TcpListener listener = ListenTcp(HostPort{"::1", 0}, error);
  if (listener.socket.Valid()) {
    EXPECT_EQ(listener.bound_host, "[::1]");
  }
  TcpListener closed = ListenTcp("127.0.0.1:0", error);
  ASSERT_TRUE(closed.socket.Valid()) << error;
  const uint16_t port = static_cast<uint16_t>(closed.bound_port);
  closed.socket.Reset();
  DialResult dial = DialTcp(HostPort{"127.0.0.1", port},
                            std::chrono::steady_clock::now() + std::chrono::seconds(2));
  EXPECT_EQ(dial.error, ECONNREFUSED);
  EXPECT_EQ(dial.message,
            "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
}

}  // namespace
}  // namespace tp
