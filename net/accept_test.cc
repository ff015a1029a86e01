#include "net/accept.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/resource.h>

#include <vector>

namespace tp {
namespace {

using Clock = std::chrono::steady_clock;

// A listener on 127.0.0.1 with one connection waiting; `client` holds that connection's end.
struct PendingConnection {
  UniqueFd listener{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  UniqueFd client{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};

  PendingConnection() {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    EXPECT_EQ(::bind(listener.Get(), reinterpret_cast<sockaddr*>(&address), length), 0);
    EXPECT_EQ(::listen(listener.Get(), 4), 0);
    EXPECT_EQ(::getsockname(listener.Get(), reinterpret_cast<sockaddr*>(&address), &length), 0);
    EXPECT_EQ(::connect(client.Get(), reinterpret_cast<sockaddr*>(&address), length), 0);
  }
};

TEST(AcceptConnectionTest, TakesAWaitingConnection) {
  PendingConnection pending;
  const auto start = Clock::now();
  EXPECT_TRUE(AcceptConnection(pending.listener.Get()).Valid());
  EXPECT_LT(Clock::now() - start, kAcceptBackoff);
}

// Out of descriptors, the listener stays readable and accept fails at once: AcceptConnection
// waits before returning, and takes the connection once a descriptor is free again.
TEST(AcceptConnectionTest, BacksOffWhenOutOfDescriptorsAndServesAgainAfter) {
  PendingConnection pending;
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  std::vector<UniqueFd> hogs;
  {
    rlimit low = saved;
    low.rlim_cur = 64;
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    while (true) {
      UniqueFd hog(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
      if (!hog.Valid()) break;
      hogs.push_back(std::move(hog));
    }
    const auto start = Clock::now();
    const bool accepted = AcceptConnection(pending.listener.Get()).Valid();
    const auto waited = Clock::now() - start;
    hogs.clear();
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    EXPECT_FALSE(accepted);
    EXPECT_GE(waited, kAcceptBackoff);
  }
  EXPECT_TRUE(AcceptConnection(pending.listener.Get()).Valid());
}

}  // namespace
}  // namespace tp
