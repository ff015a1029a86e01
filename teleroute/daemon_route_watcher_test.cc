#include "teleroute/daemon_route_watcher.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "sync/mutex.h"
#include "teleroute/fake_network_os.h"

namespace tp::teleroute {
namespace {

using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Optional;
using Clock = std::chrono::steady_clock;

const std::string kNetwork = "0123456789abcdef0123456789abcdef";
const std::string kEndpoint = "eeeeeeeeeeeeeeee";

Ipv4Prefix Prefix(const std::string& text) { return *ParseIpv4Prefix(text); }

// A daemon control API on loopback that answers GET /status with `body` (status 200).
class FakeControlApi {
 public:
  FakeControlApi() {
    server_.Get("/status", [this](const httplib::Request&, httplib::Response& response) {
      MutexLock lock(mu_);
      response.set_content(body_, "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");  // listening from here: clients may connect
    thread_ = std::thread([this] { server_.listen_after_bind(); });
  }
  ~FakeControlApi() {
    server_.stop();
    thread_.join();
  }
  void Answer(std::string body) {
    MutexLock lock(mu_);
    body_ = std::move(body);
  }
  uint16_t port() const { return static_cast<uint16_t>(port_); }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  Mutex mu_;
  std::string body_ GUARDED_BY(mu_);
};

TEST(FetchDaemonSubnets, ReadsTheSubnetsOfAConnectedDaemon) {
  FakeControlApi api;
  std::string error;
  api.Answer(R"({"connected":true,"subnets":["10.96.0.0/12","10.0.0.0/24","10.96.0.0/12"]})");
  EXPECT_THAT(FetchDaemonSubnets("127.0.0.1", api.port(), error),
              Optional(Field(&ClusterSubnets::ipv4,
                             ElementsAre(Prefix("10.0.0.0/24"), Prefix("10.96.0.0/12")))));
  api.Answer(R"({"connected":true,"subnets":[]})");
  EXPECT_THAT(FetchDaemonSubnets("127.0.0.1", api.port(), error), Optional(ClusterSubnets{}));
  // A dual-stack cluster: both families.
  api.Answer(R"({"connected":true,"subnets":["10.0.0.0/24","fd00:213::/64"]})");
  std::string reason;
  EXPECT_THAT(
      FetchDaemonSubnets("127.0.0.1", api.port(), error),
      Optional(ClusterSubnets{{Prefix("10.0.0.0/24")}, {*ParseIpv6Cidr("fd00:213::/64", reason)}}));
}

TEST(FetchDaemonSubnets, RefusesWhatIsNotAConnectedDaemonsStatus) {
  FakeControlApi api;
  std::string error;
  api.Answer(R"({"connected":false,"subnets":["10.96.0.0/12"]})");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  EXPECT_THAT(error, HasSubstr("not connected"));
  api.Answer(R"({"connected":true,"subnets":["10.96.0.0/33"]})");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  EXPECT_THAT(error, HasSubstr("\"10.96.0.0/33\" as a subnet"));
  api.Answer(R"({"connected":true,"subnets":["fd00::1/64"]})");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  EXPECT_THAT(error, HasSubstr("\"fd00::1/64\" as a subnet"));
  api.Answer(R"({"connected":true,"subnets":["10.0.0.0/24,10.1.0.0/24"]})");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  api.Answer("<html>");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  EXPECT_THAT(error, HasSubstr("not a JSON object"));
  api.Answer(R"({"connected":true,"subnets":"10.96.0.0/12"})");
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", api.port(), error));
  EXPECT_THAT(error, HasSubstr("field 'subnets' is not a list of strings"));
  std::string refused;  // nothing listens on port 1 (a privileged port nobody uses here)
  EXPECT_FALSE(FetchDaemonSubnets("127.0.0.1", 1, refused));
  EXPECT_THAT(refused, HasSubstr("does not answer"));
}

class DaemonRouteWatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    state_dir_ = std::filesystem::temp_directory_path() /
                 ("teleroute-watcher-test-" + std::to_string(::getpid()));
    std::filesystem::remove_all(state_dir_);
    driver_ = std::make_unique<TelerouteDriver>(os_, routes_, state_dir_.string());
    CreateNetworkRequest network;
    network.network_id = kNetwork;
    network.options = {{"daemon", "10.1.0.2"}, {"subnets", "10.96.0.0/12"}};
    network.ipv4_data = {{"LocalDefault", "10.1.0.0/24", "10.1.0.1/24", {}}};
    driver_->CreateNetwork(network);
    CreateEndpointRequest endpoint;
    endpoint.network_id = kNetwork;
    endpoint.endpoint_id = kEndpoint;
    endpoint.interface.address = "10.1.0.3/24";
    driver_->CreateEndpoint(endpoint);
    driver_->Join({kNetwork, kEndpoint, "/netns/client"});
  }
  void TearDown() override {
    driver_.reset();
    std::filesystem::remove_all(state_dir_);
  }
  // Asks the fake API for every network, whatever the daemon's address.
  DaemonRouteWatcher::SubnetFetcher FetchFrom(const FakeControlApi& api) {
    return [&api](const DaemonFeed&, std::string& error) {
      return FetchDaemonSubnets("127.0.0.1", api.port(), error);
    };
  }
  std::set<std::pair<Ipv4Prefix, std::string>> ClientRoutes() {
    return os_.routes["/netns/client"];
  }

  FakeNetworkOs os_;
  FixedRouteSource routes_;
  std::filesystem::path state_dir_;
  std::unique_ptr<TelerouteDriver> driver_;
};

TEST_F(DaemonRouteWatcherTest, NewSubnetsReachRunningContainers) {
  FakeControlApi api;
  api.Answer(R"({"connected":true,"subnets":["10.96.0.0/12","10.244.0.0/16"]})");
  DaemonRouteWatcher watcher(*driver_, std::chrono::hours(1), FetchFrom(api));
  EXPECT_EQ(watcher.CheckNow(), 1);
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4,
              ElementsAre(Prefix("10.96.0.0/12"), Prefix("10.244.0.0/16")));
  EXPECT_THAT(ClientRoutes(), ElementsAre(std::pair{Prefix("10.244.0.0/16"), "10.1.0.2"}));
  EXPECT_EQ(watcher.CheckNow(), 0) << "nothing changed: nothing to do";
}

TEST_F(DaemonRouteWatcherTest, ADaemonThatIsDownOrDisconnectedChangesNothing) {
  FakeControlApi api;
  api.Answer(R"({"connected":false,"subnets":[]})");
  DaemonRouteWatcher watcher(*driver_, std::chrono::hours(1), FetchFrom(api));
  EXPECT_EQ(watcher.CheckNow(), 0);
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4, ElementsAre(Prefix("10.96.0.0/12")));
  DaemonRouteWatcher unreachable(*driver_, std::chrono::hours(1),
                                 [](const DaemonFeed&, std::string& error) {
                                   return FetchDaemonSubnets("127.0.0.1", 1, error);
                                 });
  EXPECT_EQ(unreachable.CheckNow(), 0);
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4, ElementsAre(Prefix("10.96.0.0/12")));
}

TEST_F(DaemonRouteWatcherTest, ItsThreadFollowsTheDaemonByItself) {
  FakeControlApi api;
  api.Answer(R"({"connected":true,"subnets":["10.245.0.0/16"]})");
  DaemonRouteWatcher watcher(*driver_, std::chrono::milliseconds(20), FetchFrom(api));
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (driver_->Subnets(kNetwork).ipv4 != std::vector{Prefix("10.245.0.0/16")} &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_THAT(driver_->Subnets(kNetwork).ipv4, ElementsAre(Prefix("10.245.0.0/16")));
}

}  // namespace
}  // namespace tp::teleroute
