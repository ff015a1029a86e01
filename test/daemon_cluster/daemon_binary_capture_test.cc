// The real telepresence-daemon binary with capture on, in a fresh network namespace joined to a
// "cluster" namespace only by a veth that carries the tunnel to the manager's address:
//
//   daemon namespace                                   cluster namespace
//   telepresence-daemon --write-resolv-conf            traffic-manager on 0.0.0.0
//     dials 10.198.0.1 (veth) ---------------------->  TCP echo server on 10.201.0.10 (its lo)
//   plain connect() to 10.201.0.10 (routed into a dead end: only capture gets it there)
//
// /status shows the capture, a connection reaches the echo server, the resolv.conf names the
// daemon's DNS server, and POST /quit leaves no table, rule or route.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cluster/manager/traffic_manager.h"
#include "daemon/capture_test_network.h"
#include "daemon/capture_test_peers.h"
#include "daemon/daemon_process_testing.h"
#include "daemon/traffic_capture.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::TestNetworkNamespace;

constexpr char kSecret[] = "daemon-binary-capture-secret";
constexpr char kClusterAddress[] = "10.201.0.10";

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream contents;
  contents << file.rdbuf();
  return contents.str();
}

// Polls GET /status until the capture is active; the last body, or null.
nlohmann::json WaitUntilCapturing(uint16_t control_port, Clock::time_point deadline) {
  httplib::Client client("127.0.0.1", control_port);
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  nlohmann::json body;
  while (Clock::now() < deadline) {
    if (const auto response = client.Get("/status"); response && response->status == 200) {
      body = nlohmann::json::parse(response->body);
      if (body.at("capture").at("active") == true && body.at("dns").at("address") != "") {
        return body;
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  return body;
}

// Sends `text` to address:port and reads as many bytes back; "" on any failure (3 s at most).
std::string EchoThrough(const std::string& address, uint16_t port, const std::string& text) {
  UniqueFd socket(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const timeval timeout{3, 0};
  ::setsockopt(socket.Get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  ::setsockopt(socket.Get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  destination.sin_port = htons(port);
  ::inet_pton(AF_INET, address.c_str(), &destination.sin_addr);
  if (::connect(socket.Get(), reinterpret_cast<const sockaddr*>(&destination),
                sizeof destination) != 0 ||
      ::send(socket.Get(), text.data(), text.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(text.size())) {
    return "";
  }
  std::string reply;
  char buffer[256];
  while (reply.size() < text.size()) {
    const ssize_t got = ::recv(socket.Get(), buffer, sizeof buffer, 0);
    if (got <= 0) break;
    reply.append(buffer, static_cast<size_t>(got));
  }
  return reply;
}

TEST(DaemonBinaryCapture, CapturesRewritesResolvConfAndCleansUpOnQuit) {
  std::string error;
  auto cluster = TestNetworkNamespace::Create(error);
  auto daemon_network = cluster ? TestNetworkNamespace::Create(error) : nullptr;
  if (!daemon_network) {
    GTEST_SKIP() << "\n*** CAPTURE NOT TESTED: this machine cannot create network namespaces ("
                 << error << "). Run the tests as root on Linux. ***\n";
  }
  ASSERT_EQ(cluster->AddAddress("lo", std::string(kClusterAddress) + "/32"), "");
  ASSERT_EQ(daemon_network->AddVethTo(*cluster, "tpm0", "tpm1"), "");
  ASSERT_EQ(daemon_network->AddAddress("tpm0", "10.198.0.2/30"), "");
  ASSERT_EQ(cluster->AddAddress("tpm1", "10.198.0.1/30"), "");
  ASSERT_EQ(daemon_network->AddDeadEndLink("tp0", "tp1"), "");
  ASSERT_EQ(daemon_network->AddAddress("tp0", "10.199.0.2/24"), "");
  ASSERT_EQ(daemon_network->AddRoute("10.201.0.0/16", "tp0"), "");

  std::unique_ptr<testing::TcpEchoServer> echo;
  std::unique_ptr<manager::TrafficManager> manager;
  ASSERT_TRUE(cluster->Run([&] {
    echo = std::make_unique<testing::TcpEchoServer>(kClusterAddress);
    manager::ManagerConfig config;
    config.listen = "0.0.0.0:0";
    config.secret = kSecret;
    config.welcome = {{"10.201.0.0/24"},
                      {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
                      "cluster.local"};
    manager = manager::TrafficManager::Start(config, error);
  }));
  ASSERT_TRUE(manager) << error;
  ASSERT_NE(echo->port(), 0);

  testing::TempFolder folder;
  const std::string log_path = folder.Path("daemon.log");
  const std::string resolv_conf = folder.Write("resolv.conf", "nameserver 192.0.2.53\n");
  std::unique_ptr<testing::DaemonProcess> daemon;
  ASSERT_TRUE(daemon_network->Run([&] {
    daemon = std::make_unique<testing::DaemonProcess>(
        std::vector<std::string>{"--manager", "10.198.0.1:" + std::to_string(manager->ListenPort()),
                                 "--secret-file", folder.Write("secret", kSecret), "--control",
                                 "127.0.0.1:0", "--dns", "0.0.0.0:53", "--resolv-conf", resolv_conf,
                                 "--write-resolv-conf", "--capture-port", "15002"},
        log_path);
  }));
  const auto control_line =
      testing::WaitForLog(log_path, "control API on 127.0.0.1:", Clock::now() + 5s);
  ASSERT_TRUE(control_line) << ReadFile(log_path);
  const auto control_port = static_cast<uint16_t>(std::stoi(*control_line));

  ASSERT_TRUE(daemon_network->Run([&] {
    const nlohmann::json status = WaitUntilCapturing(control_port, Clock::now() + 10s);
    ASSERT_EQ(status.value("connected", false), true) << status.dump() << ReadFile(log_path);
    const nlohmann::json expected_capture = {{"enabled", true},
                                             {"active", true},
                                             {"port", 15002},
                                             {"subnets", {"10.201.0.0/24"}},
                                             {"error", ""}};
    EXPECT_EQ(status.at("capture"), expected_capture) << status.dump();

    EXPECT_EQ(EchoThrough(kClusterAddress, echo->port(), "through the daemon"),
              "through the daemon");
  }));
  EXPECT_EQ(echo->connections(), 1);

  // The DNS server is up (status said so), so the file was rewritten before that.
  const std::string rewritten = ReadFile(resolv_conf);
  EXPECT_NE(rewritten.find("\nnameserver 127.0.0.1\n"), std::string::npos) << rewritten;
  EXPECT_NE(rewritten.find("\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n"),
            std::string::npos)
      << rewritten;
  EXPECT_NE(rewritten.find("options ndots:5"), std::string::npos) << rewritten;
  EXPECT_NE(rewritten.find("upstream nameserver 192.0.2.53"), std::string::npos) << rewritten;

  ASSERT_TRUE(daemon_network->Run([&] {
    httplib::Client client("127.0.0.1", control_port);
    const auto quit = client.Post("/quit", "", "application/json");
    ASSERT_TRUE(quit);
    EXPECT_EQ(quit->status, 200);
  }));
  EXPECT_EQ(daemon->WaitForExit(Clock::now() + 10s), 0) << ReadFile(log_path);
  const TrafficCaptureOptions defaults;  // what the daemon uses
  ASSERT_TRUE(daemon_network->Run([&] {
    EXPECT_EQ(testing::ListNftTable(defaults.table_name), "");
    EXPECT_EQ(testing::CountMarkRules(defaults.mark, defaults.routing_table), 0);
    EXPECT_EQ(testing::CountLocalDefaultRoutes(defaults.routing_table), 0);
  }));
}

}  // namespace
}  // namespace tp::daemon
