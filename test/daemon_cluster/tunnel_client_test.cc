// TunnelClient against a traffic-manager run in-process on loopback: connect, lose the manager,
// get it back on the same port, and a wrong secret.
#include "daemon/tunnel_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "cluster/manager/traffic_manager.h"
#include "common/testing/loopback_udp_responder.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr char kSecret[] = "tunnel-client-secret";

std::unique_ptr<manager::TrafficManager> StartManager(const std::string& listen) {
  manager::ManagerConfig config;
  config.listen = listen;
  config.secret = kSecret;
  config.welcome = {{"10.96.0.0/12", "10.0.0.0/8"}, {"default.svc.cluster.local"}, "cluster.local"};
  std::string error;
  auto manager = manager::TrafficManager::Start(config, error);
  EXPECT_TRUE(manager) << error;
  return manager;
}

TunnelClientOptions ClientOptions(int port, std::string secret = kSecret) {
  TunnelClientOptions options;
  options.manager_host = "127.0.0.1";
  options.manager_port = static_cast<uint16_t>(port);
  options.secret = std::move(secret);
  options.client_name = "tunnel-client-test";
  options.refused_backoff = 500ms;
  return options;
}

// Polls `condition` until it holds or `timeout` passes.
template <typename Condition>
bool Eventually(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return condition();
}

TEST(TunnelClient, ConnectsAndReportsTheWelcome) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  TunnelClient client(ClientOptions(manager->ListenPort()));
  const auto welcome = client.WaitUntilConnected(Clock::now() + 3s);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->subnets, (std::vector<std::string>{"10.96.0.0/12", "10.0.0.0/8"}));
  const TunnelClientStatus status = client.Status();
  EXPECT_TRUE(status.connected);
  EXPECT_EQ(status.manager, "127.0.0.1:" + std::to_string(manager->ListenPort()));
  ASSERT_TRUE(status.welcome);
  EXPECT_EQ(status.welcome->search_domains, std::vector<std::string>{"default.svc.cluster.local"});
  EXPECT_EQ(status.last_error, "");
  EXPECT_EQ(status.reconnect_count, 0u);
  EXPECT_TRUE(client.Current());
}

TEST(TunnelClient, FollowsSubnetChanges) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  TunnelClient client(ClientOptions(manager->ListenPort()));
  ASSERT_TRUE(client.WaitUntilConnected(Clock::now() + 3s));
  manager->UpdateSubnets({"192.168.77.0/24"});
  EXPECT_TRUE(Eventually(
      [&] {
        const auto welcome = client.Status().welcome;
        return welcome && welcome->subnets == std::vector<std::string>{"192.168.77.0/24"};
      },
      3s));
}

TEST(TunnelClient, WaitForSubnetsWakesOnTheFirstWelcomeAndOnEachChange) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  TunnelClient client(ClientOptions(manager->ListenPort()));
  const auto first = client.WaitForSubnets(std::nullopt, Clock::now() + 3s);
  ASSERT_TRUE(first);
  EXPECT_EQ(*first, (std::vector<std::string>{"10.96.0.0/12", "10.0.0.0/8"}));
  // Unchanged: waits until the deadline.
  const auto start = Clock::now();
  EXPECT_EQ(client.WaitForSubnets(first, Clock::now() + 200ms), first);
  EXPECT_GE(Clock::now() - start, 200ms);

  std::thread changer([&] { manager->UpdateSubnets({"192.168.77.0/24"}); });
  const auto changed = client.WaitForSubnets(first, Clock::now() + 3s);
  changer.join();
  EXPECT_EQ(changed, std::vector<std::string>{"192.168.77.0/24"});
}

TEST(TunnelClient, UdpRepliesGoToTheCurrentHandler) {
  test_support::LoopbackUdpResponder responder([](std::span<const uint8_t> datagram) {
    return std::vector<uint8_t>(datagram.begin(), datagram.end());
  });
  ASSERT_NE(responder.port(), 0);
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  TunnelClient client(ClientOptions(manager->ListenPort()));
  ASSERT_TRUE(client.WaitUntilConnected(Clock::now() + 3s));
  std::atomic<int> replies{0};
  std::atomic<uint32_t> last_flow{0};
  client.SetUdpReplyHandler([&](uint32_t flow_id, const tunnel::UdpReply& reply) {
    if (reply.bytes == std::vector<uint8_t>{'h', 'i'} && reply.port == responder.port()) {
      last_flow = flow_id;
      ++replies;
    }
  });
  const auto send = [&] {
    client.Current()->SendUdpDatagram(7, {"127.0.0.1", responder.port(), {'h', 'i'}},
                                      Clock::now() + 1s);
  };
  send();
  EXPECT_TRUE(Eventually([&] { return replies.load() == 1; }, 3s));
  EXPECT_EQ(last_flow.load(), 7u);

  // A new handler replaces the old one: the next reply goes only to it.
  std::atomic<int> replacement_replies{0};
  client.SetUdpReplyHandler([&](uint32_t, const tunnel::UdpReply&) { ++replacement_replies; });
  send();
  EXPECT_TRUE(Eventually([&] { return replacement_replies.load() == 1; }, 3s));
  EXPECT_EQ(replies.load(), 1);
  client.SetUdpReplyHandler(nullptr);
}

TEST(TunnelClient, NoticesTheManagerIsGoneAndReconnectsWhenItIsBack) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  const int port = manager->ListenPort();
  TunnelClient client(ClientOptions(port));
  ASSERT_TRUE(client.WaitUntilConnected(Clock::now() + 3s));

  manager->Stop();
  manager.reset();
  EXPECT_TRUE(Eventually([&] { return !client.Status().connected; }, 3s));
  EXPECT_FALSE(client.Current());
  EXPECT_NE(client.Status().last_error, "");
  std::this_thread::sleep_for(500ms);  // a few failed attempts while it is away

  manager = StartManager("127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(manager);
  EXPECT_TRUE(Eventually([&] { return client.Status().connected; }, 3s));
  const TunnelClientStatus status = client.Status();
  EXPECT_EQ(status.reconnect_count, 1u);
  EXPECT_EQ(status.last_error, "");
  EXPECT_TRUE(client.Current());
}

TEST(TunnelClient, WrongSecretIsReportedAndRetriedSlowly) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  TunnelClient client(ClientOptions(manager->ListenPort(), "not-the-secret"));
  EXPECT_TRUE(Eventually([&] { return client.Status().last_error != ""; }, 3s));
  const TunnelClientStatus status = client.Status();
  EXPECT_FALSE(status.connected);
  EXPECT_NE(status.last_error.find("refused"), std::string::npos) << status.last_error;
  EXPECT_NE(status.last_error.find("secret"), std::string::npos) << status.last_error;
  EXPECT_FALSE(client.WaitUntilConnected(Clock::now() + 1200ms));
  EXPECT_FALSE(client.Current());
  // refused_backoff is 500 ms: about 3 attempts in 1.2 s, never a busy loop.
  EXPECT_GE(client.Status().attempt_count, 2u);
  EXPECT_LE(client.Status().attempt_count, 4u);
}

TEST(TunnelClient, ResolverAnswersNothingWithoutATunnel) {
  TunnelClientOptions options = ClientOptions(1);  // nothing listens on port 1
  TunnelClient client(options);
  const std::vector<uint8_t> query(12, 0);
  const auto start = Clock::now();
  EXPECT_FALSE(client.Resolver().Resolve(query, 1s));
  EXPECT_LT(Clock::now() - start, 100ms);
}

TEST(TunnelClient, DestructorReturnsPromptlyWhileConnected) {
  auto manager = StartManager("127.0.0.1:0");
  ASSERT_TRUE(manager);
  auto client = std::make_unique<TunnelClient>(ClientOptions(manager->ListenPort()));
  ASSERT_TRUE(client->WaitUntilConnected(Clock::now() + 3s));
  const auto held = client->Current();  // a holder keeps the dead connection: must be safe
  const auto start = Clock::now();
  client.reset();
  EXPECT_LT(Clock::now() - start, 500ms);
  EXPECT_TRUE(held->Dead());
}

}  // namespace
}  // namespace tp::daemon
