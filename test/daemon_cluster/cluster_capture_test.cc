// Transparent capture end to end, in two fresh network namespaces:
//
//   "daemon" namespace                              "cluster" namespace
//   plain sockets -> 10.201.0.10:PORT               TCP echo server, UDP echo responder on
//     (route: a dead-end veth; without capture        10.201.0.10 (an address of its lo)
//      nothing there answers)                       traffic-manager on 127.0.0.1
//   TrafficCapture + TransparentProxy  --tunnel-->  (TunnelClient dials it from here)
//
// The only way from the daemon namespace to the cluster's addresses is the tunnel.
#include "daemon/cluster_capture.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "cluster/manager/traffic_manager.h"
#include "daemon/capture_test_network.h"
#include "daemon/capture_test_peers.h"
#include "net/socket_address.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::TestNetworkNamespace;

constexpr char kSecret[] = "capture-test-secret";
constexpr char kClusterAddress[] = "10.201.0.10";
// The cluster is dual stack; the daemon namespace has no IPv6 route at all (the capture's own
// last-resort routes are the only ones), as in a daemon container.
constexpr char kClusterAddress6[] = "fd01:201::10";
constexpr uint16_t kCapturePort = 15001;

template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

struct Connected {
  UniqueFd socket;
  int error = 0;  // errno of a failed connect; ETIMEDOUT when `timeout` passed
};

// A blocking TCP socket connected to address:port, or the reason it is not within `timeout`.
Connected ConnectWithin(const std::string& address, uint16_t port,
                        std::chrono::milliseconds timeout) {
  Connected result;
  const std::optional<tp::SocketAddress> destination = ParseSocketAddress(address, port);
  if (!destination) {
    result.error = EINVAL;
    return result;
  }
  result.socket.Reset(
      ::socket(destination->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (::connect(result.socket.Get(), destination->get(), destination->length) != 0) {
    if (errno != EINPROGRESS) {
      result.error = errno;
      return result;
    }
    pollfd waiter{result.socket.Get(), POLLOUT, 0};
    if (::poll(&waiter, 1, static_cast<int>(timeout.count())) <= 0) {
      result.error = ETIMEDOUT;
      return result;
    }
    socklen_t length = sizeof result.error;
    ::getsockopt(result.socket.Get(), SOL_SOCKET, SO_ERROR, &result.error, &length);
    if (result.error != 0) return result;
  }
  ::fcntl(result.socket.Get(), F_SETFL, 0);  // blocking again
  return result;
}

// Reads until `count` bytes, end of stream, an error or `timeout`; returns what came and sets
// `error` (0 at end of stream or when `count` bytes came).
std::string ReadWithin(int socket, size_t count, std::chrono::milliseconds timeout, int& error) {
  std::string text;
  error = 0;
  const auto deadline = Clock::now() + timeout;
  std::vector<char> buffer(64 * 1024);
  while (text.size() < count) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd waiter{socket, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&waiter, 1, static_cast<int>(left.count())) <= 0) {
      error = ETIMEDOUT;
      return text;
    }
    const ssize_t got =
        ::recv(socket, buffer.data(), std::min(buffer.size(), count - text.size()), 0);
    if (got < 0) {
      error = errno;
      return text;
    }
    if (got == 0) return text;
    text.append(buffer.data(), static_cast<size_t>(got));
  }
  return text;
}

struct UdpAnswer {
  std::string reply;  // "" when none came
  sockaddr_storage source{};
};

// Sends `payload` from `socket` to `destination` each second until a datagram comes back or 5 s
// pass (datagrams may be lost): the first reply and where it came from.
UdpAnswer UdpExchange(int socket, const tp::SocketAddress& destination,
                      const std::string& payload) {
  UdpAnswer answer;
  const auto deadline = Clock::now() + 5s;
  while (answer.reply.empty() && Clock::now() < deadline) {
    ::sendto(socket, payload.data(), payload.size(), 0, destination.get(), destination.length);
    pollfd waiter{socket, POLLIN, 0};
    if (::poll(&waiter, 1, 1000) <= 0) continue;
    char buffer[256];
    socklen_t length = sizeof answer.source;
    const ssize_t got = ::recvfrom(socket, buffer, sizeof buffer, 0,
                                   reinterpret_cast<sockaddr*>(&answer.source), &length);
    if (got > 0) answer.reply.assign(buffer, static_cast<size_t>(got));
  }
  return answer;
}

uint8_t PatternByte(uint64_t index) {
  return static_cast<uint8_t>((index * 131 + index / 4099) & 0xff);
}

class ClusterCaptureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string error;
    cluster_ = TestNetworkNamespace::Create(error);
    if (cluster_) daemon_ = TestNetworkNamespace::Create(error);
    if (!daemon_) {
      GTEST_SKIP() << "\n*** CAPTURE NOT TESTED: this machine cannot create network namespaces ("
                   << error << "). Run the tests as root on Linux. ***\n";
    }
    ASSERT_EQ(cluster_->AddAddress("lo", std::string(kClusterAddress) + "/32"), "");
    ASSERT_EQ(cluster_->AddAddress("lo", std::string(kClusterAddress6) + "/128"), "");
    ASSERT_EQ(daemon_->AddDeadEndLink("tp0", "tp1"), "");
    ASSERT_EQ(daemon_->AddAddress("tp0", "10.199.0.2/24"), "");
    ASSERT_EQ(daemon_->AddRoute("10.200.0.0/14", "tp0"), "");  // 10.200.0.0 - 10.203.255.255

    ASSERT_TRUE(cluster_->Run([this] { StartCluster(); }));
    ASSERT_TRUE(manager_ && client_);
    ASSERT_NE(tcp_echo_->port(), 0);
    ASSERT_NE(udp_echo_->port(), 0);
    ASSERT_NE(tcp_echo6_->port(), 0);
    ASSERT_NE(udp_echo6_->port(), 0);
    ASSERT_TRUE(client_->WaitUntilConnected(Clock::now() + 5s)) << client_->Status().last_error;

    ASSERT_TRUE(daemon_->Run([this] {
      ClusterCaptureOptions options;
      options.proxy.port = kCapturePort;
      capture_ = std::make_unique<ClusterCapture>(*client_, options);
    }));
    ASSERT_TRUE(Eventually([this] { return capture_->Status().active; }, 5s))
        << capture_->Status().error;
  }

  void StartCluster() {
    tcp_echo_ = std::make_unique<testing::TcpEchoServer>(kClusterAddress);
    udp_echo_ = std::make_unique<testing::UdpEchoResponder>(kClusterAddress);
    tcp_echo6_ = std::make_unique<testing::TcpEchoServer>(kClusterAddress6);
    udp_echo6_ = std::make_unique<testing::UdpEchoResponder>(kClusterAddress6);
    manager::ManagerConfig config;
    config.listen = "127.0.0.1:0";
    config.secret = kSecret;
    config.welcome = {
        {"10.201.0.0/24", "fd01:201::/64"}, {"default.svc.cluster.local"}, "cluster.local"};
    config.connect_timeout = 2s;
    std::string error;
    manager_ = manager::TrafficManager::Start(config, error);
    ASSERT_TRUE(manager_) << error;
    TunnelClientOptions options;
    options.manager_port = static_cast<uint16_t>(manager_->ListenPort());
    options.secret = kSecret;
    options.client_name = "cluster-capture-test";
    client_ = std::make_unique<TunnelClient>(options);
  }

  // Runs `body` in the daemon's namespace, as a container sharing it would.
  void FromTheDaemonNamespace(const std::function<void()>& body) {
    ASSERT_TRUE(daemon_->Run(body));
  }

  // Declared in the order of set-up: torn down in reverse.
  std::unique_ptr<TestNetworkNamespace> cluster_;
  std::unique_ptr<TestNetworkNamespace> daemon_;
  std::unique_ptr<testing::TcpEchoServer> tcp_echo_;
  std::unique_ptr<testing::UdpEchoResponder> udp_echo_;
  std::unique_ptr<testing::TcpEchoServer> tcp_echo6_;
  std::unique_ptr<testing::UdpEchoResponder> udp_echo6_;
  std::unique_ptr<manager::TrafficManager> manager_;
  std::unique_ptr<TunnelClient> client_;
  std::unique_ptr<ClusterCapture> capture_;
};

TEST_F(ClusterCaptureTest, StatusShowsTheCapture) {
  const api::CaptureStatus status = capture_->Status();
  EXPECT_TRUE(status.enabled);
  EXPECT_TRUE(status.active);
  EXPECT_EQ(status.port, kCapturePort);
  EXPECT_EQ(status.subnets, (std::vector<std::string>{"10.201.0.0/24", "fd01:201::/64"}));
  EXPECT_EQ(status.error, "");
}

TEST_F(ClusterCaptureTest, TcpReachesTheClusterEchoServerThroughTheTunnel) {
  FromTheDaemonNamespace([this] {
    Connected connected = ConnectWithin(kClusterAddress, tcp_echo_->port(), 3s);
    ASSERT_EQ(connected.error, 0) << std::strerror(connected.error);
    const int socket = connected.socket.Get();
    ASSERT_EQ(::send(socket, "hello", 5, MSG_NOSIGNAL), 5);
    int error = 0;
    EXPECT_EQ(ReadWithin(socket, 5, 3s, error), "hello");
    ASSERT_EQ(error, 0) << std::strerror(error);

    // 32 MiB both ways at once, then our FIN comes back as the server's FIN.
    constexpr uint64_t kBytes = 32ull << 20;
    const auto start = Clock::now();
    std::thread writer([socket] {
      std::vector<uint8_t> chunk(256 * 1024);
      for (uint64_t sent = 0; sent < kBytes;) {
        const size_t size = std::min<uint64_t>(chunk.size(), kBytes - sent);
        for (size_t i = 0; i < size; ++i) chunk[i] = PatternByte(sent + i);
        const ssize_t wrote = ::send(socket, chunk.data(), size, MSG_NOSIGNAL);
        if (wrote <= 0) return;
        sent += static_cast<uint64_t>(wrote);
        if (static_cast<size_t>(wrote) != size) return;
      }
      ::shutdown(socket, SHUT_WR);
    });
    uint64_t received = 0;
    uint64_t mismatches = 0;
    std::vector<uint8_t> buffer(256 * 1024);
    while (true) {
      pollfd waiter{socket, POLLIN, 0};
      if (::poll(&waiter, 1, 10000) <= 0) break;
      const ssize_t got = ::recv(socket, buffer.data(), buffer.size(), 0);
      if (got <= 0) break;
      for (ssize_t i = 0; i < got; ++i) mismatches += buffer[i] != PatternByte(received + i);
      received += static_cast<uint64_t>(got);
    }
    writer.join();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    EXPECT_EQ(received, kBytes);
    EXPECT_EQ(mismatches, 0u);
    std::printf("32 MiB echoed through capture + tunnel in %.2f s (%.0f MB/s each way)\n", seconds,
                kBytes / seconds / 1e6);
  });
  EXPECT_EQ(tcp_echo_->connections(), 1);
  EXPECT_GE(capture_->Counters().tcp_accepted, 1u);
}

TEST_F(ClusterCaptureTest, UdpRoundTripsAndTheReplyComesFromTheOriginalDestination) {
  FromTheDaemonNamespace([this] {
    UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const std::optional<tp::SocketAddress> destination =
        ParseSocketAddress(kClusterAddress, udp_echo_->port());
    ASSERT_TRUE(destination);
    const UdpAnswer answer = UdpExchange(socket.Get(), *destination, "ping");
    EXPECT_EQ(answer.reply, "echo:ping");
    EXPECT_EQ(EndpointText(answer.source),
              std::string(kClusterAddress) + ":" + std::to_string(udp_echo_->port()));

    // A connected socket only takes datagrams from the address it connected to.
    UniqueFd connected(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ASSERT_EQ(::connect(connected.Get(), destination->get(), destination->length), 0);
    std::string second;
    const auto second_deadline = Clock::now() + 5s;
    while (second.empty() && Clock::now() < second_deadline) {
      ASSERT_EQ(::send(connected.Get(), "again", 5, 0), 5);
      pollfd waiter{connected.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 1000) <= 0) continue;
      char buffer[256];
      const ssize_t got = ::recv(connected.Get(), buffer, sizeof buffer, 0);
      if (got > 0) second.assign(buffer, static_cast<size_t>(got));
    }
    EXPECT_EQ(second, "echo:again");
  });
  // The reply counter moves just after the client could read the reply.
  EXPECT_TRUE(Eventually([this] { return capture_->Counters().udp_replies >= 2; }, 2s));
  const TransparentProxyCounters counters = capture_->Counters();
  EXPECT_GE(counters.udp_datagrams, 2u);
  EXPECT_EQ(counters.udp_flows, 2u);
}

// The daemon namespace's own IPv6 traffic to the cluster: TCP and UDP through the tunnel, the
// UDP reply from the original destination.
TEST_F(ClusterCaptureTest, Ipv6TcpAndUdpReachTheClusterThroughTheTunnel) {
  FromTheDaemonNamespace([this] {
    const Connected tcp = ConnectWithin(kClusterAddress6, tcp_echo6_->port(), 3s);
    ASSERT_EQ(tcp.error, 0) << std::strerror(tcp.error);
    ASSERT_EQ(::send(tcp.socket.Get(), "hello6", 6, MSG_NOSIGNAL), 6);
    int error = 0;
    EXPECT_EQ(ReadWithin(tcp.socket.Get(), 6, 3s, error), "hello6");

    const std::optional<tp::SocketAddress> udp_destination =
        ParseSocketAddress(kClusterAddress6, udp_echo6_->port());
    ASSERT_TRUE(udp_destination);
    UniqueFd udp(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    const UdpAnswer answer = UdpExchange(udp.Get(), *udp_destination, "ping6");
    EXPECT_EQ(answer.reply, "echo:ping6");
    EXPECT_EQ(EndpointText(answer.source),
              "[" + std::string(kClusterAddress6) + "]:" + std::to_string(udp_echo6_->port()));
  });
  EXPECT_EQ(tcp_echo6_->connections(), 1);
  EXPECT_TRUE(Eventually([this] { return capture_->Counters().udp_replies >= 1; }, 2s));
}

// A connection straight to the capture port (a neighbour's, say, at one of the daemon's own
// addresses) is dropped by the capture's guard before the proxy sees it: nothing answers, and
// nothing is relayed.
TEST_F(ClusterCaptureTest, ADirectConnectionToTheCapturePortIsDropped) {
  const uint64_t accepted = capture_->Counters().tcp_accepted;
  FromTheDaemonNamespace([] {
    const Connected direct = ConnectWithin("10.199.0.2", kCapturePort, 1500ms);
    EXPECT_EQ(direct.error, ETIMEDOUT) << std::strerror(direct.error);
  });
  EXPECT_EQ(capture_->Counters().tcp_accepted, accepted);
}

// The reset a client gets instead of data: ECONNRESET (or a refused connect) well within `limit`.
void ExpectResetWithin(const std::string& address, uint16_t port, std::chrono::milliseconds limit) {
  const auto start = Clock::now();
  Connected connected = ConnectWithin(address, port, 3s);
  int error = connected.error;
  if (error == 0) {
    ::send(connected.socket.Get(), "hi", 2, MSG_NOSIGNAL);
    ReadWithin(connected.socket.Get(), 1, 3s, error);
  }
  const auto elapsed = Clock::now() - start;
  EXPECT_TRUE(error == ECONNRESET || error == ECONNREFUSED) << std::strerror(error);
  EXPECT_LT(elapsed, limit);
}

TEST_F(ClusterCaptureTest, WithoutATunnelConnectionsAreResetAtOnce) {
  manager_.reset();  // closes its listener too: reconnects are refused at once
  ASSERT_TRUE(Eventually([this] { return client_->Current() == nullptr; }, 5s));
  FromTheDaemonNamespace([this] { ExpectResetWithin(kClusterAddress, tcp_echo_->port(), 1s); });
  EXPECT_GE(capture_->Counters().tcp_refused, 1u);
  EXPECT_EQ(tcp_echo_->connections(), 0);
}

TEST_F(ClusterCaptureTest, AClosedClusterPortResetsTheConnection) {
  // Port 1 of the cluster address: nothing listens, the manager's dial is refused.
  FromTheDaemonNamespace([] { ExpectResetWithin(kClusterAddress, 1, 1s); });
}

TEST_F(ClusterCaptureTest, AResetByTheServerResetsTheClient) {
  FromTheDaemonNamespace([this] {
    Connected connected = ConnectWithin(kClusterAddress, tcp_echo_->port(), 3s);
    ASSERT_EQ(connected.error, 0) << std::strerror(connected.error);
    ASSERT_EQ(::send(connected.socket.Get(), "RESET", 5, MSG_NOSIGNAL), 5);
    int error = 0;
    EXPECT_EQ(ReadWithin(connected.socket.Get(), 1, 3s, error), "");
    EXPECT_EQ(error, ECONNRESET) << std::strerror(error);
  });
}

TEST_F(ClusterCaptureTest, FollowsTheClustersSubnetChanges) {
  ASSERT_EQ(cluster_->AddAddress("lo", "10.202.0.20/32"), "");
  std::unique_ptr<testing::TcpEchoServer> second_echo;
  ASSERT_TRUE(cluster_->Run(
      [&] { second_echo = std::make_unique<testing::TcpEchoServer>("10.202.0.20"); }));
  ASSERT_NE(second_echo->port(), 0);

  manager_->UpdateSubnets({"10.202.0.0/24"});
  ASSERT_TRUE(Eventually(
      [this] { return capture_->Status().subnets == std::vector<std::string>{"10.202.0.0/24"}; },
      5s));
  FromTheDaemonNamespace([&] {
    const std::string table = testing::ListNftTable("telepresence");
    EXPECT_NE(table.find("10.202.0.0/24"), std::string::npos) << table;
    EXPECT_EQ(table.find("10.201.0.0/24"), std::string::npos) << table;
    Connected connected = ConnectWithin("10.202.0.20", second_echo->port(), 3s);
    ASSERT_EQ(connected.error, 0) << std::strerror(connected.error);
    ASSERT_EQ(::send(connected.socket.Get(), "new subnet", 10, MSG_NOSIGNAL), 10);
    int error = 0;
    EXPECT_EQ(ReadWithin(connected.socket.Get(), 10, 3s, error), "new subnet");
    // The old subnet is no longer captured: its SYN goes down the dead end.
    EXPECT_EQ(ConnectWithin(kClusterAddress, tcp_echo_->port(), 300ms).error, ETIMEDOUT);
  });
  EXPECT_EQ(second_echo->connections(), 1);
}

TEST_F(ClusterCaptureTest, RemovesEverythingWhenDestroyed) {
  const TrafficCaptureOptions defaults;
  FromTheDaemonNamespace([&] {
    EXPECT_NE(testing::ListNftTable(defaults.table_name), "");
    EXPECT_EQ(testing::CountMarkRules(defaults.mark, defaults.routing_table), 1);
    EXPECT_EQ(testing::CountLocalDefaultRoutes(defaults.routing_table), 1);
  });
  capture_.reset();
  FromTheDaemonNamespace([&] {
    EXPECT_EQ(testing::ListNftTable(defaults.table_name), "");
    EXPECT_EQ(testing::CountMarkRules(defaults.mark, defaults.routing_table), 0);
    EXPECT_EQ(testing::CountLocalDefaultRoutes(defaults.routing_table), 0);
    // And the port is free again.
    EXPECT_EQ(ConnectWithin("127.0.0.1", kCapturePort, 1s).error, ECONNREFUSED);
  });
}

}  // namespace
}  // namespace tp::daemon
