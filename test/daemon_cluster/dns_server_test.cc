// DnsServer on loopback: a fake cluster resolver, a fake upstream nameserver (a UDP responder
// written into a temporary resolv.conf), and one test through a real traffic-manager.
#include "daemon/dns_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "cluster/manager/traffic_manager.h"
#include "common/testing/loopback_udp_responder.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using dns::DnsName;
using dns::Message;
using dns::Rcode;

DnsName Name(std::string_view text) { return *DnsName::FromText(text); }

// Answers A queries from a table of names; NXDOMAIN for the others; and 40 addresses for
// "many.svc.cluster.local" (a reply too large for classic UDP). Shared by the fake cluster
// resolver and the fake nameservers.
class AddressBook {
 public:
  explicit AddressBook(std::map<std::string, std::array<uint8_t, 4>> addresses)
      : addresses_(std::move(addresses)) {}

  std::vector<uint8_t> Reply(std::span<const uint8_t> query_bytes) const {
    const dns::ParsedMessage query = dns::ParseMessage(query_bytes);
    if (!query.message || query.message->questions.size() != 1) return {};
    const DnsName& name = query.message->questions[0].name;
    if (name.SameAs(Name("many.svc.cluster.local"))) {
      Message reply = dns::MakeReply(*query.message, Rcode::kNoError);
      for (uint8_t host = 1; host <= 40; ++host) {
        reply.answers.push_back(dns::MakeAddressRecord(name, {10, 1, 0, host}, 30));
      }
      return dns::EncodeMessage(reply);
    }
    const auto found = addresses_.find(name.ToText());
    if (found == addresses_.end()) {
      return dns::EncodeMessage(dns::MakeReply(*query.message, Rcode::kNxDomain));
    }
    Message reply = dns::MakeReply(*query.message, Rcode::kNoError);
    reply.answers.push_back(dns::MakeAddressRecord(name, found->second, 30));
    return dns::EncodeMessage(reply);
  }

 private:
  const std::map<std::string, std::array<uint8_t, 4>> addresses_;
};

// The cluster as the daemon sees it, without a tunnel. Names that end with the silent suffix
// get no answer (it waits out the timeout, as a dead manager would). Records the names asked.
class FakeClusterResolver : public DnsResolver {
 public:
  explicit FakeClusterResolver(AddressBook book) : book_(std::move(book)) {}

  std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                              std::chrono::milliseconds timeout) override {
    if (const auto parsed = dns::ParseMessage(query); parsed.message) {
      MutexLock lock(mutex_);
      asked_.push_back(parsed.message->questions.at(0).name.ToText());
    }
    if (IsSilentFor(query)) {
      std::this_thread::sleep_for(timeout);
      return std::nullopt;
    }
    return book_.Reply(query);
  }
  // "" (the root): every name; "svc.cluster.local": names under it.
  void SetSilentFor(std::string_view suffix) {
    MutexLock lock(mutex_);
    silent_suffix_ = Name(suffix);
  }
  std::vector<std::string> Asked() {
    MutexLock lock(mutex_);
    return asked_;
  }

 private:
  bool IsSilentFor(std::span<const uint8_t> query) {
    const auto parsed = dns::ParseMessage(query);
    MutexLock lock(mutex_);
    return silent_suffix_ && parsed.message &&
           parsed.message->questions.at(0).name.EndsWith(*silent_suffix_);
  }

  const AddressBook book_;
  Mutex mutex_;
  std::vector<std::string> asked_ GUARDED_BY(mutex_);
  std::optional<DnsName> silent_suffix_ GUARDED_BY(mutex_);
};

// A DNS server on 127.0.0.1:<any> answering from an address book.
class FakeNameserver {
 public:
  explicit FakeNameserver(AddressBook book)
      : book_(std::move(book)),
        responder_([this](auto datagram) { return book_.Reply(datagram); }) {}
  uint16_t port() const { return responder_.port(); }
  int queries() const { return responder_.datagrams(); }

 private:
  const AddressBook book_;
  tp::test_support::LoopbackUdpResponder responder_;
};

// A resolv.conf in a temporary folder, removed with the object.
class TempResolvConf {
 public:
  explicit TempResolvConf(const std::string& contents) {
    char folder_template[] = "/tmp/dns-server-test.XXXXXX";
    folder_ = ::mkdtemp(folder_template);
    std::ofstream(path()) << contents;
  }
  ~TempResolvConf() { std::filesystem::remove_all(folder_); }
  std::string path() const { return folder_ + "/resolv.conf"; }

 private:
  std::string folder_;
};

// Sends raw bytes to 127.0.0.1:port over UDP and returns the reply (empty on timeout).
class DnsClient {
 public:
  explicit DnsClient(uint16_t port) : socket_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    EXPECT_EQ(::connect(socket_.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  }
  void Send(std::span<const uint8_t> bytes) {
    ASSERT_EQ(::send(socket_.Get(), bytes.data(), bytes.size(), 0),
              static_cast<ssize_t>(bytes.size()));
  }
  std::optional<Message> Receive(std::chrono::milliseconds timeout) {
    pollfd waiter{socket_.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, static_cast<int>(timeout.count())) <= 0) return std::nullopt;
    std::vector<uint8_t> buffer(65536);
    const ssize_t got = ::recv(socket_.Get(), buffer.data(), buffer.size(), 0);
    if (got < 0) return std::nullopt;
    buffer.resize(static_cast<size_t>(got));
    return dns::ParseMessage(buffer).message;
  }
  std::optional<Message> Ask(std::string_view name, std::chrono::milliseconds timeout = 2s) {
    const Message query = dns::MakeQuery(next_id_++, Name(name), dns::kTypeA);
    Send(dns::EncodeMessage(query));
    return Receive(timeout);
  }

 private:
  UniqueFd socket_;
  uint16_t next_id_ = 100;
};

// Asks over TCP (two-byte length prefix) on 127.0.0.1:port; nullopt on failure.
std::optional<Message> AskOverTcp(uint16_t port, std::string_view name) {
  DialResult dial = DialTcp("127.0.0.1", port, Clock::now() + 2s);
  if (!dial.socket.Valid()) return std::nullopt;
  const std::vector<uint8_t> query =
      dns::EncodeMessage(dns::MakeQuery(77, Name(name), dns::kTypeA));
  std::vector<uint8_t> framed = {static_cast<uint8_t>(query.size() >> 8),
                                 static_cast<uint8_t>(query.size())};
  framed.insert(framed.end(), query.begin(), query.end());
  if (!tunnel::WriteAll(dial.socket.Get(), framed, Clock::now() + 2s)) return std::nullopt;
  std::vector<uint8_t> received;
  std::vector<uint8_t> buffer(4096);
  const auto deadline = Clock::now() + 2s;
  while (Clock::now() < deadline) {
    pollfd waiter{dial.socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) break;
    const ssize_t got = ::recv(dial.socket.Get(), buffer.data(), buffer.size(), 0);
    if (got <= 0) break;
    received.insert(received.end(), buffer.begin(), buffer.begin() + got);
    const size_t expected =
        received.size() >= 2 ? (size_t{received[0]} << 8 | received[1]) + 2 : SIZE_MAX;
    if (received.size() >= expected) {
      return dns::ParseMessage(std::span(received).subspan(2)).message;
    }
  }
  return std::nullopt;
}

// The A record's address in `reply` for `name`, as text; "" when none.
std::string AddressOf(const Message& reply, std::string_view name) {
  for (const dns::Record& record : reply.answers) {
    if (record.type == dns::kTypeA && record.name.SameAs(Name(name)) && record.data.size() == 4) {
      char text[INET_ADDRSTRLEN] = {};
      ::inet_ntop(AF_INET, record.data.data(), text, sizeof text);
      return text;
    }
  }
  return "";
}

const std::vector<std::string> kSearchDomains = {"default.svc.cluster.local", "svc.cluster.local",
                                                 "cluster.local"};

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    DnsServerOptions options;
    options.search_domains = kSearchDomains;
    options.resolv_conf = resolv_conf_.path();
    options.query_timeout = 500ms;
    std::string error;
    server_ = DnsServer::Start(options, cluster_, error);
    ASSERT_TRUE(server_) << error;
  }

  FakeClusterResolver cluster_{AddressBook({{"echo.default.svc.cluster.local.", {10, 0, 0, 5}},
                                            {"db.svc.cluster.local.", {10, 0, 0, 6}}})};
  FakeNameserver upstream_{AddressBook({{"example.com.", {192, 0, 2, 1}}})};
  TempResolvConf resolv_conf_{
      "# test\nsearch example\nnameserver 127.0.0.1:" + std::to_string(upstream_.port()) + "\n"};
  std::unique_ptr<DnsServer> server_;
};

TEST_F(DnsServerTest, ShortNameIsExpandedWithTheSearchDomainsAndRenamedBack) {
  DnsClient client(server_->Port());
  const auto reply = client.Ask("echo");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.rcode(), Rcode::kNoError);
  ASSERT_EQ(reply->questions.size(), 1u);
  EXPECT_EQ(reply->questions[0].name, Name("echo"));
  EXPECT_EQ(AddressOf(*reply, "echo"), "10.0.0.5");
  EXPECT_EQ(cluster_.Asked(), std::vector<std::string>{"echo.default.svc.cluster.local."});
}

TEST_F(DnsServerTest, NameWithNamespaceIsExpandedToo) {
  DnsClient client(server_->Port());
  const auto reply = client.Ask("echo.default");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->questions.at(0).name, Name("echo.default"));
  EXPECT_EQ(AddressOf(*reply, "echo.default"), "10.0.0.5");
  // The first search domain gives NXDOMAIN, the second the answer.
  const auto db = client.Ask("db");
  ASSERT_TRUE(db);
  EXPECT_EQ(AddressOf(*db, "db"), "10.0.0.6");
}

TEST_F(DnsServerTest, FullClusterNameGoesStraightToTheCluster) {
  DnsClient client(server_->Port());
  const auto reply = client.Ask("echo.default.svc.cluster.local");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "echo.default.svc.cluster.local"), "10.0.0.5");
  EXPECT_EQ(cluster_.Asked(), std::vector<std::string>{"echo.default.svc.cluster.local."});
  EXPECT_EQ(upstream_.queries(), 0);
}

TEST_F(DnsServerTest, UnknownClusterNameIsNxDomainAtOnce) {
  DnsClient client(server_->Port());
  const auto start = Clock::now();
  const auto reply = client.Ask("nothing.default.svc.cluster.local");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.rcode(), Rcode::kNxDomain);
  EXPECT_LT(Clock::now() - start, 200ms);
  EXPECT_EQ(upstream_.queries(), 0);
}

TEST_F(DnsServerTest, OtherNamesGoToTheUpstreamNameserver) {
  DnsClient client(server_->Port());
  const auto reply = client.Ask("example.com");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "example.com"), "192.0.2.1");
  EXPECT_EQ(upstream_.queries(), 1);
  const auto unknown = client.Ask("unknown");  // no search domain knows it, nor upstream
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->header.rcode(), Rcode::kNxDomain);
  EXPECT_EQ(upstream_.queries(), 2);
}

TEST_F(DnsServerTest, NamesUnderTheDockerSearchDomainAreClusterNames) {
  // What a handler container of a daemon on the host asks (docker run --dns-search tel2-search).
  DnsClient client(server_->Port());
  for (const std::string name : {"echo.tel2-search", "echo.default.tel2-search",
                                 "echo.default.svc.cluster.local.tel2-search"}) {
    const auto reply = client.Ask(name);
    ASSERT_TRUE(reply) << name;
    EXPECT_EQ(reply->header.rcode(), Rcode::kNoError) << name;
    EXPECT_EQ(reply->questions.at(0).name, Name(name));
    EXPECT_EQ(AddressOf(*reply, name), "10.0.0.5") << name;
  }
  const auto start = Clock::now();
  const auto unknown = client.Ask("example.com.tel2-search");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->header.rcode(), Rcode::kNxDomain);
  EXPECT_LT(Clock::now() - start, 200ms);
  EXPECT_EQ(upstream_.queries(), 0) << "tel2-search is no real domain: upstream never hears of it";
  const auto bare = client.Ask("tel2-search");  // the domain alone is an ordinary name
  ASSERT_TRUE(bare);
  EXPECT_EQ(upstream_.queries(), 1);
}

TEST_F(DnsServerTest, ASilentSearchDomainCostsOnlyItsShareOfTheDeadline) {
  // A cluster resolver that forwards unknown names to an upstream it cannot reach never
  // answers for echo.default.default.svc.cluster.local; the next search domain still answers.
  cluster_.SetSilentFor("default.default.svc.cluster.local");
  DnsClient client(server_->Port());
  for (const std::string name : {"echo.default", "echo.default.tel2-search"}) {
    const auto start = Clock::now();
    const auto reply = client.Ask(name);
    ASSERT_TRUE(reply) << name;
    EXPECT_EQ(AddressOf(*reply, name), "10.0.0.5") << name;
    EXPECT_LT(Clock::now() - start, 450ms) << name << ": within the 500 ms query timeout";
  }
}

TEST_F(DnsServerTest, SilentClusterGivesServFailWithinTheDeadline) {
  cluster_.SetSilentFor(".");
  DnsClient client(server_->Port());
  const auto start = Clock::now();
  const auto reply = client.Ask("echo.default.svc.cluster.local", 3s);
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->header.rcode(), Rcode::kServFail);
  EXPECT_EQ(reply->questions.at(0).name, Name("echo.default.svc.cluster.local"));
  EXPECT_LT(Clock::now() - start, 800ms);  // the query timeout is 500 ms
  EXPECT_EQ(server_->Counters().deadline_missed, 1u);
}

TEST_F(DnsServerTest, SlowQueriesDoNotHoldUpOthers) {
  cluster_.SetSilentFor("slow.svc.cluster.local");
  DnsClient slow(server_->Port());
  for (uint16_t id = 1; id <= 4; ++id) {
    const Message query = dns::MakeQuery(id, Name("x.slow.svc.cluster.local"), dns::kTypeA);
    slow.Send(dns::EncodeMessage(query));
  }
  std::this_thread::sleep_for(50ms);
  DnsClient fast(server_->Port());
  const auto start = Clock::now();
  const auto reply = fast.Ask("echo");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "echo"), "10.0.0.5");
  EXPECT_LT(Clock::now() - start, 300ms);
  for (int index = 0; index < 4; ++index) {
    const auto failed = slow.Receive(2s);
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->header.rcode(), Rcode::kServFail);
  }
}

TEST_F(DnsServerTest, MalformedDatagramsDoNotStopTheServer) {
  DnsClient client(server_->Port());
  client.Send(std::vector<uint8_t>{1, 2, 3});  // shorter than a header: dropped
  Message response = dns::MakeReply(dns::MakeQuery(5, Name("x"), dns::kTypeA), Rcode::kNoError);
  client.Send(dns::EncodeMessage(response));  // a response, not a query: dropped
  std::vector<uint8_t> looping = {0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1};
  client.Send(looping);  // a question that cannot be parsed: FORMERR
  const auto formerr = client.Receive(2s);
  ASSERT_TRUE(formerr);
  EXPECT_EQ(formerr->header.id, 9);
  EXPECT_EQ(formerr->header.rcode(), Rcode::kFormErr);
  const auto reply = client.Ask("echo");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "echo"), "10.0.0.5");
  const auto deadline = Clock::now() + 2s;  // the drops may be counted by other workers
  while (server_->Counters().dropped < 2 && Clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  EXPECT_EQ(server_->Counters().dropped, 2u);
}

TEST_F(DnsServerTest, AnswersOverTcpToo) {
  const auto reply = AskOverTcp(server_->Port(), "echo.default");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "echo.default"), "10.0.0.5");
  EXPECT_EQ(server_->Counters().tcp_connections, 1u);
}

TEST_F(DnsServerTest, LargeReplyIsTruncatedOnUdpAndWholeOnTcp) {
  DnsClient client(server_->Port());
  const auto truncated = client.Ask("many.svc.cluster.local");
  ASSERT_TRUE(truncated);
  EXPECT_TRUE(truncated->header.flags & dns::Header::kTruncatedBit);
  EXPECT_TRUE(truncated->answers.empty());
  const auto whole = AskOverTcp(server_->Port(), "many.svc.cluster.local");
  ASSERT_TRUE(whole);
  EXPECT_FALSE(whole->header.flags & dns::Header::kTruncatedBit);
  EXPECT_EQ(whole->answers.size(), 40u);
}

TEST(DnsServerOptions, InvalidOptionsAreRefused) {
  FakeClusterResolver cluster{AddressBook({})};
  std::string error;
  DnsServerOptions bad_address;
  bad_address.listen_address = "localhost";
  EXPECT_FALSE(DnsServer::Start(bad_address, cluster, error));
  EXPECT_NE(error.find("numeric"), std::string::npos);
  DnsServerOptions bad_domain;
  bad_domain.search_domains = {"a..b"};
  EXPECT_FALSE(DnsServer::Start(bad_domain, cluster, error));
}

TEST(Nameservers, ReadsResolvConfWithOptionalPorts) {
  TempResolvConf file(
      "nameserver 10.0.0.1\nnameserver 127.0.0.1:5353\nnameserver ::1\n"
      "nameserver [::1]:54\nnameserver bogus\noptions ndots:5\n");
  const auto servers = NameserversFromResolvConf(file.path());
  ASSERT_EQ(servers.size(), 4u);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in*>(&servers[1].storage)->sin_port), 5353);
  EXPECT_EQ(ntohs(reinterpret_cast<const sockaddr_in6*>(&servers[3].storage)->sin6_port), 54);
  EXPECT_TRUE(NameserversFromResolvConf("/nonexistent/resolv.conf").empty());
}

// The real thing: a traffic-manager whose resolver is a fake nameserver, a client tunnel, and
// our DNS server asking the cluster through it.
TEST(DnsServerThroughTheTunnel, ShortNameResolvesThroughTheTrafficManager) {
  FakeNameserver cluster_dns(AddressBook({{"echo.default.svc.cluster.local.", {10, 0, 0, 5}}}));
  manager::ManagerConfig config;
  config.secret = "dns-test-secret";
  config.welcome = {{"10.0.0.0/8"}, kSearchDomains, "cluster.local"};
  config.dns_servers.push_back(*ParseSocketAddress("127.0.0.1", cluster_dns.port()));
  config.dns_timeout = 500ms;
  std::string error;
  auto manager = manager::TrafficManager::Start(config, error);
  ASSERT_TRUE(manager) << error;

  DialResult dial =
      DialTcp("127.0.0.1", static_cast<uint16_t>(manager->ListenPort()), Clock::now() + 2s);
  ASSERT_TRUE(dial.socket.Valid()) << dial.message;
  const tunnel::ClientHandshakeResult handshake = tunnel::ClientHandshake(
      dial.socket.Get(), {tunnel::kProtocolVersion, "dns-test", config.secret}, Clock::now() + 2s);
  ASSERT_TRUE(handshake.welcome) << handshake.error;
  auto connection =
      tunnel::TunnelConnection::Start(std::move(dial.socket), tunnel::Role::kClient, {});
  TunnelDnsResolver cluster(*connection);

  TempResolvConf no_upstream("");
  DnsServerOptions options;
  options.search_domains = handshake.welcome->search_domains;
  options.cluster_domain = handshake.welcome->cluster_domain;
  options.resolv_conf = no_upstream.path();
  auto server = DnsServer::Start(options, cluster, error);
  ASSERT_TRUE(server) << error;

  DnsClient client(server->Port());
  const auto reply = client.Ask("echo");
  ASSERT_TRUE(reply);
  EXPECT_EQ(AddressOf(*reply, "echo"), "10.0.0.5");
  const auto missing = client.Ask("nothing.default.svc.cluster.local");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->header.rcode(), Rcode::kNxDomain);
  server->Stop();
}

}  // namespace
}  // namespace tp::daemon
