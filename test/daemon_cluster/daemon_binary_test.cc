// The real telepresence-daemon binary against an in-process traffic-manager whose cluster DNS is
// a fake responder on loopback: /status until connected, a cluster name through the daemon's
// DNS port, then POST /quit and a clean exit.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "cluster/manager/traffic_manager.h"
#include "common/testing/loopback_udp_responder.h"
#include "daemon/daemon_process_testing.h"
#include "dns/dns_message.h"
#include "net/host_port.h"
#include "net/unique_fd.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using testing::DaemonProcess;
using testing::TempFolder;
using testing::WaitForLog;

constexpr char kSecret[] = "daemon-binary-secret";

// Answers A queries for echo.default.svc.cluster.local with 10.0.0.5, NXDOMAIN otherwise, on
// 127.0.0.1:<any> over UDP: the cluster's resolver behind the manager.
class FakeClusterDns {
 public:
  FakeClusterDns() : responder_(&FakeClusterDns::Reply) {}
  uint16_t port() const { return responder_.port(); }

 private:
  static std::vector<uint8_t> Reply(std::span<const uint8_t> bytes) {
    const dns::ParsedMessage query = dns::ParseMessage(bytes);
    if (!query.message || query.message->questions.size() != 1) return {};
    const dns::DnsName& name = query.message->questions[0].name;
    if (!name.SameAs(*dns::DnsName::FromText("echo.default.svc.cluster.local"))) {
      return dns::EncodeMessage(dns::MakeReply(*query.message, dns::Rcode::kNxDomain));
    }
    dns::Message reply = dns::MakeReply(*query.message, dns::Rcode::kNoError);
    reply.answers.push_back(dns::MakeAddressRecord(name, {10, 0, 0, 5}, 30));
    return dns::EncodeMessage(reply);
  }

  tp::test_support::LoopbackUdpResponder responder_;
};

// Polls GET /status until "connected" is true; the last body, or null.
nlohmann::json WaitUntilConnected(httplib::Client& client, Clock::time_point deadline) {
  nlohmann::json body;
  while (Clock::now() < deadline) {
    if (const auto response = client.Get("/status"); response && response->status == 200) {
      body = nlohmann::json::parse(response->body);
      if (body.at("connected") == true && body.at("dns").at("address") != "") return body;
    }
    std::this_thread::sleep_for(50ms);
  }
  return body;
}

// The A record's address in the reply to an A query for `name` sent to 127.0.0.1:port.
std::string AskAddress(uint16_t port, const std::string& name) {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(socket.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    return "";
  }
  const auto query = dns::EncodeMessage(dns::MakeQuery(42, *dns::DnsName::FromText(name), 1));
  ::send(socket.Get(), query.data(), query.size(), 0);
  pollfd waiter{socket.Get(), POLLIN, 0};
  if (::poll(&waiter, 1, 3000) <= 0) return "";
  std::vector<uint8_t> buffer(65536);
  const ssize_t got = ::recv(socket.Get(), buffer.data(), buffer.size(), 0);
  if (got <= 0) return "";
  buffer.resize(static_cast<size_t>(got));
  const auto reply = dns::ParseMessage(buffer).message;
  if (!reply) return "";
  for (const dns::Record& record : reply->answers) {
    if (record.type != dns::kTypeA || record.data.size() != 4) continue;
    char text[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, record.data.data(), text, sizeof text);
    return text;
  }
  return "";
}

TEST(DaemonBinary, ConnectsServesClusterDnsAndQuitsCleanly) {
  FakeClusterDns cluster_dns;
  manager::ManagerConfig config;
  config.secret = kSecret;
  config.welcome = {{"10.0.0.0/8"},
                    {"default.svc.cluster.local", "svc.cluster.local", "cluster.local"},
                    "cluster.local"};
  config.dns_servers.push_back(*ParseSocketAddress("127.0.0.1", cluster_dns.port()));
  config.dns_timeout = 500ms;
  std::string error;
  auto manager = manager::TrafficManager::Start(config, error);
  ASSERT_TRUE(manager) << error;

  TempFolder folder;
  const std::string log_path = folder.Path("daemon.log");
  DaemonProcess daemon({"--manager", "127.0.0.1:" + std::to_string(manager->ListenPort()),
                        "--secret-file", folder.Write("secret", std::string(kSecret) + "\n"),
                        "--control", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--resolv-conf",
                        folder.Write("resolv.conf", ""), "--name", "binary-test", "--no-capture"},
                       log_path);
  // "control API on 127.0.0.1:PORT, traffic-manager ..."
  const auto control_line = WaitForLog(log_path, "control API on 127.0.0.1:", Clock::now() + 5s);
  ASSERT_TRUE(control_line) << "no control API line in the daemon's log";

  httplib::Client client("127.0.0.1", std::stoi(*control_line));
  client.set_connection_timeout(2);
  client.set_read_timeout(2);
  const nlohmann::json status = WaitUntilConnected(client, Clock::now() + 5s);
  ASSERT_EQ(status.value("connected", false), true) << status.dump();
  EXPECT_EQ(status.at("manager"), "127.0.0.1:" + std::to_string(manager->ListenPort()));
  EXPECT_EQ(status.at("subnets"), nlohmann::json({"10.0.0.0/8"}));
  EXPECT_EQ(status.at("capture").at("enabled"), false);  // --no-capture
  EXPECT_EQ(status.at("capture").at("active"), false);
  EXPECT_EQ(status.at("dns").at("search").size(), 3u);
  const auto dns_address = ParseHostPort(status.at("dns").at("address").get<std::string>());
  ASSERT_TRUE(dns_address) << status.dump();

  EXPECT_EQ(AskAddress(dns_address->port, "echo"), "10.0.0.5");
  EXPECT_EQ(AskAddress(dns_address->port, "echo.default.svc.cluster.local"), "10.0.0.5");

  const auto quit = client.Post("/quit", "", "application/json");
  ASSERT_TRUE(quit);
  EXPECT_EQ(quit->status, 200);
  EXPECT_EQ(daemon.WaitForExit(Clock::now() + 5s), 0);
}

TEST(DaemonBinary, SigtermStopsItCleanlyEvenWithoutAManager) {
  TempFolder folder;
  const std::string log_path = folder.Path("daemon.log");
  // Port 1 on loopback: nothing listens, the daemon keeps retrying.
  DaemonProcess daemon({"--manager", "127.0.0.1:1", "--secret-file", folder.Write("secret", "x"),
                        "--control", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--no-capture"},
                       log_path);
  ASSERT_TRUE(WaitForLog(log_path, "control API on", Clock::now() + 5s));
  ASSERT_TRUE(WaitForLog(log_path, "cannot reach the traffic-manager", Clock::now() + 5s));
  daemon.Signal(SIGTERM);
  EXPECT_EQ(daemon.WaitForExit(Clock::now() + 5s), 0);
}

TEST(DaemonBinary, BadArgumentsExitWithUsageError) {
  TempFolder folder;
  const std::string secret = folder.Write("secret", "x");
  const std::vector<std::vector<std::string>> bad = {
      {"--manager", "no-port"},
      {"--manager", "127.0.0.1:1", "--secret-file", secret, "--capture-port", "0"},
      {"--manager", "127.0.0.1:1", "--secret-file", secret, "--capture-port", "70000"},
      {"--manager", "127.0.0.1:1", "--secret-file", secret, "--write-resolv-conf", "--dns",
       "127.0.0.1:5353"},
  };
  for (const std::vector<std::string>& arguments : bad) {
    DaemonProcess daemon(arguments, folder.Path("daemon.log"));
    EXPECT_EQ(daemon.WaitForExit(Clock::now() + 5s), 2) << arguments[arguments.size() - 2];
  }
}

}  // namespace
}  // namespace tp::daemon
