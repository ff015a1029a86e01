// The traffic-manager end to end on loopback: a client TunnelConnection against a manager run
// in-process (or as a child process where it must die), with echo servers started here.
#include "cluster/manager/traffic_manager.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <list>
#include <nlohmann/json.hpp>
#include <thread>

#include "cluster/manager/interface_subnets.h"
#include "cluster/manager/manager_options.h"
#include "common/testing/loopback_udp_responder.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_handshake.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using tunnel::Deadline;
using tunnel::IoResult;
using tunnel::TunnelConnection;
using tunnel::TunnelStream;

constexpr char kSecret[] = "s3cret-for-tests";
constexpr char kAgentSecret[] = "agents-own-s3cret";

Deadline In(std::chrono::milliseconds duration) { return Clock::now() + duration; }

// A TCP echo server on 127.0.0.1, one thread per connection.
class TcpEchoServer {
 public:
  TcpEchoServer() {
    std::string error;
    listener_ = ListenTcp("127.0.0.1:0", error);
    EXPECT_TRUE(listener_.socket.Valid()) << error;
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~TcpEchoServer() {
    stopping_ = true;
    acceptor_.join();
    MutexLock lock(mutex_);
    for (int socket : sockets_) ::shutdown(socket, SHUT_RDWR);
    for (auto& thread : threads_) thread.join();
  }
  uint16_t port() const { return static_cast<uint16_t>(listener_.bound_port); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      pollfd waiter{listener_.socket.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 100) <= 0) continue;
      auto socket = std::make_shared<UniqueFd>(
          ::accept4(listener_.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!socket->Valid()) continue;
      MutexLock lock(mutex_);
      sockets_.push_back(socket->Get());
      threads_.emplace_back([socket] { Echo(socket->Get()); });
    }
  }
  static void Echo(int socket) {
    std::vector<char> buffer(256 * 1024);
    while (true) {
      const ssize_t got = ::recv(socket, buffer.data(), buffer.size(), 0);
      if (got <= 0) break;
      if (::send(socket, buffer.data(), static_cast<size_t>(got), MSG_NOSIGNAL) != got) break;
    }
    ::shutdown(socket, SHUT_WR);
  }

  TcpListener listener_;
  std::atomic<bool> stopping_{false};
  Mutex mutex_;
  std::vector<int> sockets_;
  std::list<std::thread> threads_;
  std::thread acceptor_;
};

// A UDP server on 127.0.0.1 that answers each datagram with `prefix` + the datagram +
// `suffix`.
class UdpEchoServer {
 public:
  explicit UdpEchoServer(std::string prefix, std::string suffix = "")
      : responder_([prefix = std::move(prefix), suffix = std::move(suffix)](auto datagram) {
          std::vector<uint8_t> reply(prefix.begin(), prefix.end());
          reply.insert(reply.end(), datagram.begin(), datagram.end());
          reply.insert(reply.end(), suffix.begin(), suffix.end());
          return reply;
        }) {}
  uint16_t port() const { return responder_.port(); }

 private:
  tp::test_support::LoopbackUdpResponder responder_;
};

// What a client sees: the handshake's outcome and, when welcomed, a running connection.
struct ClientTunnel {
  tunnel::ClientHandshakeResult handshake;
  std::unique_ptr<TunnelConnection> connection;
  Mutex replies_mutex;
  std::vector<tunnel::UdpReply> udp_replies GUARDED_BY(replies_mutex);
  std::vector<std::vector<std::string>> subnet_pushes GUARDED_BY(replies_mutex);
};

std::unique_ptr<ClientTunnel> ConnectClient(int port, const std::string& secret,
                                            tunnel::ConnectionOptions options = {},
                                            const std::string& name = "test-daemon") {
  auto client = std::make_unique<ClientTunnel>();
  DialResult dial = DialTcp("127.0.0.1", static_cast<uint16_t>(port), In(2s));
  if (!dial.socket.Valid()) {
    client->handshake.error = dial.message;
    return client;
  }
  client->handshake = tunnel::ClientHandshake(
      dial.socket.Get(), tunnel::Hello{tunnel::kProtocolVersion, name, secret}, In(2s));
  if (!client->handshake.welcome) return client;
  tunnel::TunnelHandlers handlers;
  ClientTunnel* raw = client.get();
  handlers.on_udp_reply = [raw](uint32_t, tunnel::UdpReply reply) {
    MutexLock lock(raw->replies_mutex);
    raw->udp_replies.push_back(std::move(reply));
  };
  handlers.on_subnets_changed = [raw](std::vector<std::string> subnets) {
    MutexLock lock(raw->replies_mutex);
    raw->subnet_pushes.push_back(std::move(subnets));
  };
  options.name = "test client";
  client->connection =
      TunnelConnection::Start(std::move(dial.socket), tunnel::Role::kClient, handlers, options);
  return client;
}

// Deterministic bytes that differ at every offset of a stream (so shifts and drops show).
std::vector<uint8_t> Pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  uint32_t state = seed * 2654435761u + 1;
  for (auto& byte : bytes) {
    state = state * 1664525u + 1013904223u;
    byte = static_cast<uint8_t>(state >> 24);
  }
  return bytes;
}

std::vector<uint8_t> ReadFully(TunnelStream& stream, size_t size, Deadline deadline) {
  std::vector<uint8_t> bytes(size);
  size_t got = 0;
  while (got < size) {
    const IoResult result = stream.Read(std::span(bytes).subspan(got), deadline);
    if (!result.ok() || result.bytes == 0) break;
    got += result.bytes;
  }
  bytes.resize(got);
  return bytes;
}

class TrafficManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ManagerConfig config;
    config.secret = kSecret;
    config.agent_secret = kAgentSecret;
    config.welcome = {
        {"10.96.0.0/12", "172.30.0.0/16"}, {"default.svc.cluster.local"}, "cluster.local"};
    config.dns_servers.push_back(*ParseSocketAddress("127.0.0.1", dns_server_.port()));
    config.dns_timeout = 500ms;
    config.watch_timeout = 1s;
    std::string error;
    manager_ = TrafficManager::Start(config, error);
    ASSERT_TRUE(manager_) << error;
  }

  std::unique_ptr<ClientTunnel> Connect(const std::string& secret = kSecret) {
    return ConnectClient(manager_->ListenPort(), secret);
  }

  UdpEchoServer dns_server_{"", ":answer"};  // keeps the DNS id in front
  std::unique_ptr<TrafficManager> manager_;
};

TEST_F(TrafficManagerTest, WrongSecretIsRefused) {
  auto client = Connect("not the secret");
  EXPECT_TRUE(client->handshake.refused);
  EXPECT_NE(client->handshake.error.find("wrong secret"), std::string::npos);
  EXPECT_FALSE(client->connection);
}

// Whoever holds a daemon's secret cannot pose as a workload's agent, nor an agent as a daemon.
TEST_F(TrafficManagerTest, EachRoleNeedsItsOwnSecret) {
  auto impostor = ConnectClient(manager_->ListenPort(), kSecret, {}, "agent/echo");
  EXPECT_TRUE(impostor->handshake.refused);
  EXPECT_NE(impostor->handshake.error.find("wrong secret"), std::string::npos);
  auto agent_as_daemon = ConnectClient(manager_->ListenPort(), kAgentSecret, {}, "laptop");
  EXPECT_TRUE(agent_as_daemon->handshake.refused);
  auto agent = ConnectClient(manager_->ListenPort(), kAgentSecret, {}, "agent/echo");
  EXPECT_TRUE(agent->handshake.welcome) << agent->handshake.error;
}

TEST(TrafficManagerWithoutAgentSecretTest, RefusesEveryAgent) {
  ManagerConfig config;
  config.secret = kSecret;
  std::string error;
  auto manager = TrafficManager::Start(config, error);
  ASSERT_TRUE(manager) << error;
  for (const char* secret : {kSecret, "", kAgentSecret}) {
    auto agent = ConnectClient(manager->ListenPort(), secret, {}, "agent/echo");
    EXPECT_TRUE(agent->handshake.refused) << secret;
  }
  EXPECT_TRUE(ConnectClient(manager->ListenPort(), kSecret)->handshake.welcome);
}

TEST_F(TrafficManagerTest, RightSecretGetsWelcomeWithTheSubnets) {
  auto client = Connect();
  ASSERT_TRUE(client->handshake.welcome) << client->handshake.error;
  const tunnel::Welcome& welcome = *client->handshake.welcome;
  EXPECT_EQ(welcome.subnets, (std::vector<std::string>{"10.96.0.0/12", "172.30.0.0/16"}));
  EXPECT_EQ(welcome.search_domains, std::vector<std::string>{"default.svc.cluster.local"});
  EXPECT_EQ(welcome.cluster_domain, "cluster.local");
}

TEST_F(TrafficManagerTest, NewSubnetsArePushedToLiveTunnelsAndWelcomeNewOnes) {
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  const std::vector<std::string> changed = {"10.96.0.0/12", "172.31.0.0/16"};
  manager_->UpdateSubnets(changed);
  manager_->UpdateSubnets(changed);  // no change: no second push
  const auto deadline = In(2s);
  while (Clock::now() < deadline) {
    {
      MutexLock lock(client->replies_mutex);
      if (!client->subnet_pushes.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(50ms);
  {
    MutexLock lock(client->replies_mutex);
    ASSERT_EQ(client->subnet_pushes.size(), 1u);
    EXPECT_EQ(client->subnet_pushes[0], changed);
  }
  auto later = Connect();
  ASSERT_TRUE(later->handshake.welcome);
  EXPECT_EQ(later->handshake.welcome->subnets, changed);
}

TEST_F(TrafficManagerTest, SixtyFourMebibytesRoundTripThroughAnEchoServer) {
  TcpEchoServer echo;
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  tunnel::OpenResult opened = client->connection->OpenTcp("127.0.0.1", echo.port(), In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  const std::vector<uint8_t> sent = Pattern(64 * 1024 * 1024, 1);
  std::thread writer([&] {
    EXPECT_TRUE(opened.stream->Write(sent, In(15s)).ok());
    opened.stream->CloseWrite();
  });
  const std::vector<uint8_t> received = ReadFully(*opened.stream, sent.size() + 1, In(15s));
  writer.join();
  ASSERT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent);
}

TEST_F(TrafficManagerTest, NamesAreResolvedByTheManager) {
  TcpEchoServer echo;
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  tunnel::OpenResult opened = client->connection->OpenTcp("localhost", echo.port(), In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(opened.stream->Write(hello, In(2s)).ok());
  EXPECT_EQ(ReadFully(*opened.stream, hello.size(), In(2s)), hello);
}

TEST_F(TrafficManagerTest, ClosedPortFailsQuicklyWithConnectionRefused) {
  UniqueFd unused(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(unused.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(unused.Get(), reinterpret_cast<sockaddr*>(&address), &length);
  unused.Reset();  // bound, never listening, now closed: connecting is refused

  auto client = Connect();
  ASSERT_TRUE(client->connection);
  const auto start = Clock::now();
  const tunnel::OpenResult opened =
      client->connection->OpenTcp("127.0.0.1", ntohs(address.sin_port), In(3s));
  EXPECT_FALSE(opened.stream);
  EXPECT_EQ(opened.error, ECONNREFUSED) << opened.reason;
  EXPECT_LT(Clock::now() - start, 500ms);
}

TEST_F(TrafficManagerTest, FiftyConcurrentStreams) {
  TcpEchoServer echo;
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  constexpr int kStreams = 50;
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int index = 0; index < kStreams; ++index) {
    threads.emplace_back([&, index] {
      tunnel::OpenResult opened = client->connection->OpenTcp("127.0.0.1", echo.port(), In(5s));
      if (!opened.stream) return;
      const std::vector<uint8_t> sent = Pattern(200 * 1024, static_cast<uint32_t>(index));
      std::thread writer([&] {
        opened.stream->Write(sent, In(10s));
        opened.stream->CloseWrite();
      });
      const bool same = ReadFully(*opened.stream, sent.size() + 1, In(10s)) == sent;
      writer.join();
      if (same) ++succeeded;
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(succeeded.load(), kStreams);
}

TEST_F(TrafficManagerTest, UdpDatagramComesBack) {
  UdpEchoServer udp_echo("echo:");
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  const std::vector<uint8_t> ping = {'p', 'i', 'n', 'g'};
  ASSERT_TRUE(client->connection->SendUdpDatagram(
      5, tunnel::UdpDatagram{"127.0.0.1", udp_echo.port(), ping}, In(1s)));
  const auto deadline = In(3s);
  while (Clock::now() < deadline) {
    {
      MutexLock lock(client->replies_mutex);
      if (!client->udp_replies.empty()) break;
    }
    std::this_thread::sleep_for(10ms);
  }
  MutexLock lock(client->replies_mutex);
  ASSERT_EQ(client->udp_replies.size(), 1u);
  const tunnel::UdpReply& reply = client->udp_replies[0];
  EXPECT_EQ(reply.address, "127.0.0.1");
  EXPECT_EQ(reply.port, udp_echo.port());
  EXPECT_EQ(std::string(reply.bytes.begin(), reply.bytes.end()), "echo:ping");
}

TEST_F(TrafficManagerTest, DnsQueriesAreForwardedToTheResolver) {
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  // A 12-byte DNS header (id 0xbeef) is enough for the forwarder; the fake resolver appends.
  const std::vector<uint8_t> query = {0xbe, 0xef, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  const tunnel::DnsResult answer = client->connection->QueryDns(query, In(2s));
  ASSERT_EQ(answer.error, 0);
  std::vector<uint8_t> expected = query;
  for (const char letter : std::string(":answer")) expected.push_back(static_cast<uint8_t>(letter));
  EXPECT_EQ(answer.message, expected);
  EXPECT_EQ(client->connection->QueryDns(std::vector<uint8_t>{1, 2}, In(2s)).error, EINVAL);
}

TEST_F(TrafficManagerTest, MalformedFramesCloseOnlyThatConnection) {
  TcpEchoServer echo;
  auto good = Connect();
  ASSERT_TRUE(good->connection);
  const std::vector<std::vector<uint8_t>> garbage = {
      {0, 0, 0, 5, 99, 0, 0, 0, 0},                       // unknown type, instead of Hello
      {0xff, 0xff, 0xff, 0xff, 1, 2, 3},                  // length far over the cap
      {0, 0, 0, 8, 1, 0, 0, 0, 0, 0, 0, 0},               // Hello cut short
      tunnel::EncodeFrame({1, tunnel::OpenTcp{"x", 1}}),  // a valid frame, but not a Hello
  };
  for (const auto& bytes : garbage) {
    DialResult raw = DialTcp("127.0.0.1", static_cast<uint16_t>(manager_->ListenPort()), In(1s));
    ASSERT_TRUE(raw.socket.Valid());
    ASSERT_TRUE(tunnel::WriteAll(raw.socket.Get(), bytes, In(1s)));
    // The manager answers at most a Refused, then closes.
    const tunnel::ReadFrameResult answer = tunnel::ReadOneFrame(raw.socket.Get(), In(2s));
    if (answer.frame) {
      EXPECT_EQ(answer.frame->type(), tunnel::FrameType::kRefused);
      EXPECT_FALSE(tunnel::ReadOneFrame(raw.socket.Get(), In(2s)).frame);
    } else {  // closed, or reset because our garbage was still unread
      EXPECT_TRUE(answer.error == "connection closed by peer" ||
                  answer.error == std::strerror(ECONNRESET))
          << answer.error;
    }
  }
  // Garbage after a good handshake: that tunnel dies, the first one is untouched.
  auto spoiled = Connect();
  ASSERT_TRUE(spoiled->handshake.welcome);
  DialResult raw = DialTcp("127.0.0.1", static_cast<uint16_t>(manager_->ListenPort()), In(1s));
  ASSERT_TRUE(
      tunnel::ClientHandshake(raw.socket.Get(), {tunnel::kProtocolVersion, "raw", kSecret}, In(2s))
          .welcome);
  ASSERT_TRUE(tunnel::WriteAll(raw.socket.Get(), garbage[0], In(1s)));
  std::vector<uint8_t> sink(64 * 1024);
  const auto deadline = In(2s);
  ssize_t got = 1;
  while (got > 0 && Clock::now() < deadline)
    got = ::recv(raw.socket.Get(), sink.data(), sink.size(), 0);
  EXPECT_EQ(got, 0) << "the manager should close the connection";

  tunnel::OpenResult opened = good->connection->OpenTcp("127.0.0.1", echo.port(), In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  const std::vector<uint8_t> hello = {'o', 'k'};
  ASSERT_TRUE(opened.stream->Write(hello, In(2s)).ok());
  EXPECT_EQ(ReadFully(*opened.stream, 2, In(2s)), hello);
}

TEST_F(TrafficManagerTest, StopFailsTheClientsStreams) {
  TcpEchoServer echo;
  auto client = Connect();
  ASSERT_TRUE(client->connection);
  tunnel::OpenResult opened = client->connection->OpenTcp("127.0.0.1", echo.port(), In(2s));
  ASSERT_TRUE(opened.stream);
  manager_->Stop();
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(opened.stream->Read(buffer, In(3s)).error, ECONNRESET);
  EXPECT_TRUE(client->connection->Dead());
}

// One end of an engagement test: an agent ("agent/<workload>") or a daemon. A daemon accepts
// the manager's streams and echoes them (on a thread each), or refuses them once told to.
class EngagementPeer {
 public:
  EngagementPeer(int port, const std::string& name) {
    DialResult dial = DialTcp("127.0.0.1", static_cast<uint16_t>(port), In(2s));
    EXPECT_TRUE(dial.socket.Valid()) << dial.message;
    const auto handshake =
        tunnel::ClientHandshake(dial.socket.Get(),
                                tunnel::Hello{tunnel::kProtocolVersion, name,
                                              name.starts_with("agent/") ? kAgentSecret : kSecret},
                                In(2s));
    EXPECT_TRUE(handshake.welcome) << handshake.error;
    tunnel::TunnelHandlers handlers;
    handlers.on_open_tcp = [this](std::unique_ptr<TunnelStream> stream,
                                  const tunnel::OpenTcp& request) {
      OnOpen(std::move(stream), request);
    };
    tunnel::ConnectionOptions options;
    options.name = name;
    connection_ =
        TunnelConnection::Start(std::move(dial.socket), tunnel::Role::kClient, handlers, options);
  }
  ~EngagementPeer() {
    connection_->Close("test over");
    std::list<std::thread> threads;
    {
      MutexLock lock(mutex_);
      stopping_ = true;
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
  }

  TunnelConnection& connection() { return *connection_; }
  // Calls with `request`; expects the error code `expected_error` and returns the answer.
  nlohmann::json Call(const nlohmann::json& request, int expected_error = 0) {
    const tunnel::CallResult result = connection_->Call(request.dump(), In(3s));
    EXPECT_EQ(result.error, expected_error) << request.dump() << " -> " << result.body;
    return nlohmann::json::parse(result.body, nullptr, false);
  }
  void RefuseStreams() { refuse_.store(true); }
  // From now on each stream is read to its end before the open is answered, then accepted
  // (and answered with what it read) or, with `refuse`, refused.
  void ReadBeforeAnswering(bool refuse) {
    read_first_.store(true);
    refuse_.store(refuse);
  }
  // Everything the streams read before their open was answered.
  std::string ReadBeforeAnswer() {
    MutexLock lock(mutex_);
    return read_before_answer_;
  }
  std::vector<tunnel::OpenTcp> Opens() {
    MutexLock lock(mutex_);
    return opens_;
  }

 private:
  void OnOpen(std::unique_ptr<TunnelStream> stream, const tunnel::OpenTcp& request) {
    MutexLock lock(mutex_);
    opens_.push_back(request);
    if (read_first_.load() && !stopping_) {
      threads_.emplace_back([this, stream = std::shared_ptr<TunnelStream>(std::move(stream))] {
        AnswerAfterReading(*stream);
      });
      return;
    }
    if (refuse_.load() || stopping_) {
      stream->Refuse(ECONNREFUSED, "no handler yet");
      return;
    }
    stream->Accept();
    threads_.emplace_back([stream = std::shared_ptr<TunnelStream>(std::move(stream))] {
      std::vector<uint8_t> buffer(64 * 1024);
      while (true) {
        const IoResult read = stream->Read(buffer, In(5s));
        if (!read.ok() || read.bytes == 0) break;
        if (!stream->Write(std::span(buffer).first(read.bytes), In(5s)).ok()) return;
      }
      stream->CloseWrite();
    });
  }

  void AnswerAfterReading(TunnelStream& stream) {
    std::vector<uint8_t> buffer(64 * 1024);
    std::string got;
    IoResult read;
    while ((read = stream.Read(buffer, In(5s))).ok() && read.bytes > 0) {
      got.append(reinterpret_cast<const char*>(buffer.data()), read.bytes);
    }
    {
      MutexLock lock(mutex_);
      read_before_answer_ += got;
    }
    if (!read.ok() || refuse_.load()) return stream.Refuse(ECONNREFUSED, "handler port closed");
    stream.Accept();
    stream.Write({reinterpret_cast<const uint8_t*>(got.data()), got.size()}, In(5s));
    stream.CloseWrite();
  }

  Mutex mutex_;
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::list<std::thread> threads_ GUARDED_BY(mutex_);
  std::vector<tunnel::OpenTcp> opens_ GUARDED_BY(mutex_);
  std::string read_before_answer_ GUARDED_BY(mutex_);
  std::atomic<bool> refuse_{false};
  std::atomic<bool> read_first_{false};
  std::unique_ptr<TunnelConnection> connection_;
};

const nlohmann::json kEchoRegistration = {{"op", "register"},
                                          {"workload", "echo"},
                                          {"container", "echo"},
                                          {"address", "10.213.0.3"},
                                          {"ports", {8080, 9090}},
                                          {"sftp_port", 8022},
                                          {"sftp_token", "5ec7e75ec7e75ec7e75ec7e75ec7e75e"},
                                          {"env", {{"ECHO_MESSAGE", "hi"}}},
                                          {"mounts", {"/srv/echo-data"}}};

// Opens the stream a traffic-agent opens for a connection to an engaged port.
tunnel::OpenResult OpenEngagement(EngagementPeer& agent, const std::string& id, uint16_t port) {
  return agent.connection().OpenTcp("engagement/" + id, port, In(3s));
}

class EngagementTest : public TrafficManagerTest {
 protected:
  void SetUp() override {
    TrafficManagerTest::SetUp();
    agent_ = std::make_unique<EngagementPeer>(manager_->ListenPort(), "agent/echo");
    daemon_ = std::make_unique<EngagementPeer>(manager_->ListenPort(), "daemon-laptop");
    agent_->Call(kEchoRegistration);
  }
  // The agent's current version (a watch from 0 answers at once).
  uint64_t AgentVersion() { return agent_->Call({{"op", "watch"}, {"version", 0}})["version"]; }
  // Engages echo (replace) and activates it; returns its id.
  std::string EngageActive() {
    const nlohmann::json engaged =
        daemon_->Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "replace"}});
    const std::string id = engaged.value("id", "");
    daemon_->Call({{"op", "activate"}, {"id", id}});
    return id;
  }

  std::unique_ptr<EngagementPeer> agent_;
  std::unique_ptr<EngagementPeer> daemon_;
};

// A second agent (it holds the agents' secret) cannot take a live agent's workload over.
TEST_F(EngagementTest, ASecondAgentCannotTakeALiveWorkloadOver) {
  EngagementPeer impostor(manager_->ListenPort(), "agent/echo");
  nlohmann::json fake = kEchoRegistration;
  fake["address"] = "10.9.9.9";
  const nlohmann::json refused = impostor.Call(fake, EEXIST);
  EXPECT_NE(refused.dump().find("still connected"), std::string::npos) << refused.dump();
  const nlohmann::json listed = daemon_->Call({{"op", "list"}});
  ASSERT_EQ(listed["workloads"].size(), 1u);
  EXPECT_EQ(listed["workloads"][0]["address"], "10.213.0.3");
}

TEST_F(EngagementTest, AgentRegistersDaemonEngagesAndStreamsReachTheDaemon) {
  const nlohmann::json listed = daemon_->Call({{"op", "list"}});
  ASSERT_EQ(listed["workloads"].size(), 1u);
  EXPECT_EQ(listed["workloads"][0]["workload"], "echo");
  EXPECT_EQ(listed["workloads"][0]["address"], "10.213.0.3");
  EXPECT_EQ(listed["workloads"][0]["ports"], nlohmann::json({8080, 9090}));
  EXPECT_EQ(listed["workloads"][0]["mounts"], nlohmann::json({"/srv/echo-data"}));
  EXPECT_TRUE(listed["workloads"][0]["engagement"].is_null());

  const uint64_t version = AgentVersion();
  auto watch = std::async(std::launch::async, [&] {
    return agent_->Call({{"op", "watch"}, {"version", version}});
  });
  const nlohmann::json engaged = daemon_->Call(
      {{"op", "engage"}, {"workload", "echo"}, {"mode", "intercept"}, {"ports", {9090}}});
  const std::string id = engaged.value("id", "");
  ASSERT_TRUE(id.starts_with("e-")) << engaged.dump();
  EXPECT_EQ(engaged["ports"], nlohmann::json({9090}));
  EXPECT_EQ(engaged["sftp_port"], 8022);
  EXPECT_EQ(engaged["sftp_token"], "5ec7e75ec7e75ec7e75ec7e75ec7e75e") << "for the engaging daemon";
  EXPECT_FALSE(listed["workloads"][0].contains("sftp_token")) << "not for every daemon that lists";
  EXPECT_EQ(engaged["env"]["ECHO_MESSAGE"], "hi");
  EXPECT_EQ(engaged["container"], "echo");
  EXPECT_EQ(watch.wait_for(300ms), std::future_status::timeout) << "told before activation";
  EXPECT_EQ(daemon_->Call({{"op", "list"}})["workloads"][0]["engagement"]["active"], false);

  daemon_->Call({{"op", "activate"}, {"id", id}});
  ASSERT_EQ(watch.wait_for(2s), std::future_status::ready);
  const nlohmann::json told = watch.get();
  EXPECT_GT(told.value("version", 0u), version);
  EXPECT_EQ(told["engagement"]["id"], id);
  EXPECT_EQ(told["engagement"]["mode"], "intercept");
  EXPECT_EQ(told["engagement"]["ports"], nlohmann::json({9090}));

  tunnel::OpenResult opened = OpenEngagement(*agent_, id, 9090);
  ASSERT_TRUE(opened.stream) << opened.reason;
  const std::vector<uint8_t> sent = Pattern(3 * 1024 * 1024, 5);
  std::thread writer([&] {
    EXPECT_TRUE(opened.stream->Write(sent, In(10s)).ok());
    opened.stream->CloseWrite();
  });
  const std::vector<uint8_t> back = ReadFully(*opened.stream, sent.size() + 1, In(10s));
  writer.join();
  EXPECT_TRUE(back == sent) << back.size() << " bytes came back of " << sent.size();
  const auto opens = daemon_->Opens();
  ASSERT_EQ(opens.size(), 1u);
  EXPECT_EQ(opens[0].host, "engagement/" + id);
  EXPECT_EQ(opens[0].port, 9090);
  // A port the engagement does not take is refused.
  EXPECT_EQ(OpenEngagement(*agent_, id, 8080).error, ECONNREFUSED);
}

TEST_F(EngagementTest, AfterLeaveTheAgentsNextOpenIsRefused) {
  const std::string id = EngageActive();
  ASSERT_TRUE(OpenEngagement(*agent_, id, 8080).stream);
  const uint64_t version = AgentVersion();
  daemon_->Call({{"op", "leave"}, {"id", id}});
  const nlohmann::json told = agent_->Call({{"op", "watch"}, {"version", version}});
  EXPECT_TRUE(told["engagement"].is_null());
  const tunnel::OpenResult refused = OpenEngagement(*agent_, id, 8080);
  EXPECT_FALSE(refused.stream);
  EXPECT_EQ(refused.error, ECONNREFUSED);
  EXPECT_TRUE(daemon_->Call({{"op", "list"}})["workloads"][0]["engagement"].is_null());
  daemon_->Call({{"op", "leave"}, {"id", id}}, ENOENT);
}

TEST_F(EngagementTest, DaemonThatRefusesTheStreamGetsTheAgentRefused) {
  const std::string id = EngageActive();
  daemon_->RefuseStreams();
  const tunnel::OpenResult refused = OpenEngagement(*agent_, id, 8080);
  EXPECT_EQ(refused.error, ECONNREFUSED);
  EXPECT_NE(refused.reason.find("no handler yet"), std::string::npos) << refused.reason;
}

// An agent's early bytes (its client's request) reach the daemon before the daemon answers the
// open: this daemon answers only after reading the whole request, which it could not if the
// manager waited for the answer before relaying.
TEST_F(EngagementTest, TheAgentsFirstBytesReachTheDaemonBeforeItAnswers) {
  const std::string id = EngageActive();
  daemon_->ReadBeforeAnswering(/*refuse=*/false);
  std::unique_ptr<TunnelStream> stream =
      agent_->connection().OpenTcpEarly("engagement/" + id, 8080, In(3s));
  const std::string request = "GET /early HTTP/1.1\r\n\r\n";
  ASSERT_TRUE(
      stream->Write({reinterpret_cast<const uint8_t*>(request.data()), request.size()}, In(3s))
          .ok());
  stream->CloseWrite();
  const std::vector<uint8_t> back = ReadFully(*stream, request.size() + 1, In(5s));
  EXPECT_EQ(std::string(back.begin(), back.end()), request);
  EXPECT_TRUE(stream->WasOpened());
  EXPECT_EQ(daemon_->ReadBeforeAnswer(), request);
}

// A daemon that refuses after the early bytes arrived (its handler's port is closed) has the
// agent's stream refused, never left hanging.
TEST_F(EngagementTest, ARefusalAfterTheEarlyBytesRefusesTheAgentsStream) {
  const std::string id = EngageActive();
  daemon_->ReadBeforeAnswering(/*refuse=*/true);
  std::unique_ptr<TunnelStream> stream =
      agent_->connection().OpenTcpEarly("engagement/" + id, 8080, In(3s));
  const std::string request = "GET /doomed HTTP/1.1\r\n\r\n";
  stream->Write({reinterpret_cast<const uint8_t*>(request.data()), request.size()}, In(3s));
  stream->CloseWrite();
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(stream->Read(buffer, In(5s)).error, ECONNREFUSED);
  EXPECT_FALSE(stream->WasOpened());
  EXPECT_NE(stream->FailureReason().find("handler port closed"), std::string::npos)
      << stream->FailureReason();
  EXPECT_EQ(daemon_->ReadBeforeAnswer(), request);
}

TEST_F(EngagementTest, ClosedDaemonTunnelEndsItsEngagement) {
  const std::string id = EngageActive();
  const uint64_t version = AgentVersion();
  auto watch = std::async(std::launch::async, [&] {
    return agent_->Call({{"op", "watch"}, {"version", version}});
  });
  daemon_->connection().Close("laptop gone");
  ASSERT_EQ(watch.wait_for(3s), std::future_status::ready);
  EXPECT_TRUE(watch.get()["engagement"].is_null());
  EXPECT_EQ(OpenEngagement(*agent_, id, 8080).error, ECONNREFUSED);
  EngagementPeer other(manager_->ListenPort(), "daemon-other");
  const nlohmann::json listed = other.Call({{"op", "list"}});
  ASSERT_EQ(listed["workloads"].size(), 1u);
  EXPECT_TRUE(listed["workloads"][0]["engagement"].is_null());
  EXPECT_EQ(other.Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "wiretap"}})["ports"],
            nlohmann::json({8080}));
}

TEST_F(EngagementTest, ClosedAgentTunnelRemovesItsWorkload) {
  const std::string id = EngageActive();
  agent_->connection().Close("pod deleted");
  const auto deadline = In(3s);
  nlohmann::json listed;
  do {
    listed = daemon_->Call({{"op", "list"}});
  } while (!listed["workloads"].empty() && Clock::now() < deadline);
  EXPECT_TRUE(listed["workloads"].empty());
  daemon_->Call({{"op", "activate"}, {"id", id}}, ENOENT);
  const nlohmann::json refused =
      daemon_->Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "replace"}}, ENOENT);
  EXPECT_EQ(refused["error"],
            "no workload named echo has a traffic-agent; `telepresence list` shows those that do");
}

TEST_F(EngagementTest, SecondEngagementIsRefusedWithTheFirstOnesName) {
  daemon_->Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "replace"}, {"name", "mine"}});
  EngagementPeer other(manager_->ListenPort(), "daemon-other");
  const nlohmann::json refused =
      other.Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "intercept"}}, EBUSY);
  EXPECT_EQ(refused["error"],
            "workload echo is already engaged by mine (replace); `telepresence leave mine` first");
  const nlohmann::json bad_port = daemon_->Call(
      {{"op", "engage"}, {"workload", "echo"}, {"mode", "intercept"}, {"ports", {7070}}}, EINVAL);
  EXPECT_EQ(bad_port["error"], "workload echo has no port 7070; its ports are 8080, 9090");
}

TEST_F(EngagementTest, WatchIsAnsweredUnchangedAfterTheTimeout) {
  const uint64_t version = AgentVersion();
  const auto start = Clock::now();
  const nlohmann::json told = agent_->Call({{"op", "watch"}, {"version", version}});
  EXPECT_GE(Clock::now() - start, 900ms);  // the fixture's watch timeout is 1 s
  EXPECT_EQ(told.value("version", 0u), version);
  EXPECT_TRUE(told["engagement"].is_null());
}

TEST_F(EngagementTest, TheWorkloadsMountPoliciesReachTheDaemon) {
  EngagementPeer agent(manager_->ListenPort(), "agent/config");
  nlohmann::json registration = kEchoRegistration;
  registration["workload"] = "config";
  registration["mounts"] = {"/data", "/etc/app"};
  registration["mount_policies"] = {{"/etc/app", "RemoteReadOnly"}};
  agent.Call(registration);
  const nlohmann::json listed = daemon_->Call({{"op", "list"}});
  nlohmann::json policies;
  for (const auto& workload : listed["workloads"]) {
    if (workload["workload"] == "config") policies = workload["mount_policies"];
  }
  EXPECT_EQ(policies, nlohmann::json({{"/etc/app", "RemoteReadOnly"}}));
  const nlohmann::json engaged =
      daemon_->Call({{"op", "engage"}, {"workload", "config"}, {"mode", "ingest"}});
  EXPECT_EQ(engaged["mount_policies"], nlohmann::json({{"/etc/app", "RemoteReadOnly"}}));

  // A policy the manager does not know, or for a path that is not a mount, is refused.
  registration["mount_policies"] = {{"/etc/app", "ReadOnly"}};
  const nlohmann::json unknown = agent.Call(registration, EINVAL);
  EXPECT_NE(unknown.dump().find("Remote, RemoteReadOnly, Local, Ignore"), std::string::npos)
      << unknown.dump();
  registration["mount_policies"] = {{"/elsewhere", "Local"}};
  const nlohmann::json elsewhere = agent.Call(registration, EINVAL);
  EXPECT_NE(elsewhere.dump().find("not in \\\"mounts\\\""), std::string::npos) << elsewhere.dump();
}

TEST_F(EngagementTest, MalformedRequestsGetErrorsAndTheSessionKeepsServing) {
  for (const std::string body :
       {"", "not json", "[1,2]", "{\"op\":42}", "{\"op\":\"fly\"}", "{}",
        "{\"op\":\"engage\",\"workload\":5,\"mode\":\"replace\"}",
        "{\"op\":\"engage\",\"workload\":\"echo\",\"mode\":\"replace\",\"ports\":[70000]}",
        "{\"op\":\"activate\"}", "{\"op\":\"list\"", "\xff\xfe"}) {
    const tunnel::CallResult result = daemon_->connection().Call(body, In(2s));
    EXPECT_EQ(result.error, EINVAL) << body;
    const auto answer = nlohmann::json::parse(result.body, nullptr, false);
    EXPECT_TRUE(answer.is_object() && answer["error"].is_string()) << body << " -> " << result.body;
  }
  daemon_->Call({{"op", "engage"}, {"workload", "echo"}, {"mode", "borrow"}}, EINVAL);
  daemon_->Call({{"op", "watch"}, {"version", 0}}, EPERM);  // agents only
  daemon_->Call(kEchoRegistration, EPERM);
  agent_->Call({{"op", "list"}}, EPERM);  // daemons only
  agent_->Call({{"op", "register"}, {"workload", "echo"}}, EINVAL);
  nlohmann::json bad_token = kEchoRegistration;
  bad_token["sftp_token"] = "not-a-token";
  agent_->Call(bad_token, EINVAL);
  EXPECT_EQ(daemon_->Call({{"op", "list"}})["workloads"].size(), 1u);
  EXPECT_FALSE(daemon_->connection().Dead());
  EXPECT_FALSE(agent_->connection().Dead());
}

TEST_F(EngagementTest, DaemonStreamsStillDialTheCluster) {
  TcpEchoServer echo;
  tunnel::OpenResult opened = daemon_->connection().OpenTcp("127.0.0.1", echo.port(), In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  const std::vector<uint8_t> hello = {'h', 'i'};
  ASSERT_TRUE(opened.stream->Write(hello, In(2s)).ok());
  EXPECT_EQ(ReadFully(*opened.stream, 2, In(2s)), hello);
  // An agent may open engagement streams only.
  EXPECT_EQ(agent_->connection().OpenTcp("127.0.0.1", echo.port(), In(2s)).error, ECONNREFUSED);
}

// The real binary as a child process, for the tests where the manager must die abruptly.
class ManagerProcess {
 public:
  ManagerProcess() {
    char folder_template[] = "/tmp/traffic-manager-test.XXXXXX";
    folder_ = ::mkdtemp(folder_template);
    std::ofstream(folder_ + "/secret") << kSecret << "\n";
    const std::string port_file = folder_ + "/port";
    const std::string secret_file = folder_ + "/secret";  // no allocation after fork
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::execl(TRAFFIC_MANAGER_BINARY, "traffic-manager", "--listen", "127.0.0.1:0", "--secret-file",
              secret_file.c_str(), "--subnets", "10.0.0.0/8", "--port-file", port_file.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = In(5s);
    while (Clock::now() < deadline && port_ == 0) {
      std::ifstream(port_file) >> port_;
      if (port_ == 0) std::this_thread::sleep_for(10ms);
    }
  }
  ~ManagerProcess() {
    Signal(SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(folder_);
  }
  int port() const { return port_; }
  void Signal(int number) { ::kill(pid_, number); }

 private:
  std::string folder_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// Opens a stream to `echo` through a fresh manager process and checks that it works.
std::unique_ptr<TunnelStream> OpenWorkingStream(ClientTunnel& client, const TcpEchoServer& echo) {
  tunnel::OpenResult opened = client.connection->OpenTcp("127.0.0.1", echo.port(), In(2s));
  EXPECT_TRUE(opened.stream) << opened.reason;
  if (!opened.stream) return nullptr;
  const std::vector<uint8_t> hello = {'h', 'i'};
  EXPECT_TRUE(opened.stream->Write(hello, In(2s)).ok());
  EXPECT_EQ(ReadFully(*opened.stream, 2, In(2s)), hello);
  return std::move(opened.stream);
}

TEST(TrafficManagerProcess, KilledManagerFailsTheStreamsWithinThreeSeconds) {
  TcpEchoServer echo;
  ManagerProcess manager;
  ASSERT_NE(manager.port(), 0);
  auto client = ConnectClient(manager.port(), kSecret);
  ASSERT_TRUE(client->connection) << client->handshake.error;
  std::unique_ptr<TunnelStream> stream = OpenWorkingStream(*client, echo);
  ASSERT_TRUE(stream);
  manager.Signal(SIGKILL);
  const auto start = Clock::now();
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(stream->Read(buffer, In(5s)).error, ECONNRESET);
  EXPECT_LT(Clock::now() - start, 3s);
}

TEST(TrafficManagerProcess, FrozenManagerIsDeclaredDeadWithinAboutThreeSeconds) {
  TcpEchoServer echo;
  ManagerProcess manager;
  ASSERT_NE(manager.port(), 0);
  auto client = ConnectClient(manager.port(), kSecret);  // default dead_after: 3 s
  ASSERT_TRUE(client->connection) << client->handshake.error;
  std::unique_ptr<TunnelStream> stream = OpenWorkingStream(*client, echo);
  ASSERT_TRUE(stream);
  manager.Signal(SIGSTOP);  // the socket stays open; only the keepalive can tell
  const auto start = Clock::now();
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(stream->Read(buffer, In(6s)).error, ECONNRESET);
  EXPECT_LT(Clock::now() - start, 3500ms);
  EXPECT_NE(client->connection->FailureReason().find("no frame from peer"), std::string::npos);
}

TEST(ManagerOptions, ParsesEveryFlag) {
  const auto parsed = ParseManagerOptions({"--listen", ":8081", "--secret-file", "/s", "--subnets",
                                           "10.0.0.0/8,172.16.0.0/12", "--dns-search", "a,b",
                                           "--cluster-domain", "example.local"});
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->subnets, (std::vector<std::string>{"10.0.0.0/8", "172.16.0.0/12"}));
  EXPECT_EQ(parsed.options->dns_search, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(parsed.options->cluster_domain, "example.local");
  EXPECT_FALSE(ParseManagerOptions({"--secret-file", "/s"}).options);
  EXPECT_FALSE(
      ParseManagerOptions({"--listen", ":1", "--secret-file", "/s", "--bogus", "x"}).options);
  EXPECT_TRUE(ParseManagerOptions({"--help"}).options->help);
}

TEST(InterfaceSubnets, NetworkCidrMasksTheHostBits) {
  EXPECT_EQ(NetworkCidr(0x0a010203, 8), "10.0.0.0/8");
  EXPECT_EQ(NetworkCidr(0xac120005, 16), "172.18.0.0/16");
  EXPECT_EQ(NetworkCidr(0xc0a80101, 32), "192.168.1.1/32");
  for (const std::string& subnet : InterfaceSubnets()) {
    EXPECT_NE(subnet.rfind("127.", 0), 0u);
    EXPECT_NE(subnet.rfind("fe80:", 0), 0u) << "link-local IPv6 is no cluster network";
    EXPECT_NE(subnet, "::1/128");
  }
  in6_addr address{}, mask{};
  ::inet_pton(AF_INET6, "fd00:213::5", &address);
  ::inet_pton(AF_INET6, "ffff:ffff:ffff:ffff::", &mask);
  EXPECT_EQ(Ipv6NetworkCidr(address, mask), "fd00:213::/64");
}

}  // namespace
}  // namespace tp::manager
