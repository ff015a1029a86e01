#include "tunnel/tunnel_connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <list>
#include <mutex>
#include <thread>

#include "tunnel/tunnel_handshake.h"

namespace tp::tunnel {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

Deadline In(std::chrono::milliseconds duration) { return Clock::now() + duration; }

struct SocketPair {
  UniqueFd client;
  UniqueFd server;
};

SocketPair MakeSocketPair() {
  int fds[2];
  EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

// Reads until `size` bytes arrived or the stream ended.
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

// A server side whose streams echo what they read, each on its own thread, or (for host
// "sink") accept and never read.
class EchoServer {
 public:
  explicit EchoServer(UniqueFd socket, ConnectionOptions options = {}) {
    TunnelHandlers handlers;
    handlers.on_open_tcp = [this](std::unique_ptr<TunnelStream> stream, const OpenTcp& request) {
      if (request.host == "refuse") {
        stream->Refuse(ECONNREFUSED, "refused by test");
        return;
      }
      stream->Accept();
      std::lock_guard lock(mutex_);
      if (request.host == "sink") {
        sinks_.push_back(std::move(stream));
        return;
      }
      threads_.emplace_back([stream = std::shared_ptr<TunnelStream>(std::move(stream))] {
        std::vector<uint8_t> buffer(100000);
        while (true) {
          const IoResult read = stream->Read(buffer, In(5s));
          if (!read.ok() || read.bytes == 0) break;
          if (!stream->Write(std::span(buffer).first(read.bytes), In(5s)).ok()) return;
        }
        stream->CloseWrite();
      });
    };
    handlers.on_dns_query = [this](uint32_t id, DnsQuery query) {
      std::reverse(query.message.begin(), query.message.end());
      connection_->SendDnsAnswer(id, DnsAnswer{0, query.message}, In(1s));
    };
    connection_ = TunnelConnection::Start(std::move(socket), Role::kServer, handlers, options);
  }
  ~EchoServer() {
    connection_->Close("test over");
    for (auto& thread : threads_) thread.join();
    sinks_.clear();
  }
  TunnelConnection& connection() { return *connection_; }

 private:
  std::mutex mutex_;
  std::list<std::thread> threads_;
  std::vector<std::unique_ptr<TunnelStream>> sinks_;
  std::unique_ptr<TunnelConnection> connection_;
};

TEST(TunnelConnection, StreamEchoesAndEndsCleanly) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("echo", 7, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  std::vector<uint8_t> sent(3 * 1024 * 1024 + 17);
  for (size_t index = 0; index < sent.size(); ++index)
    sent[index] = static_cast<uint8_t>(index * 7);
  std::thread writer([&] {
    EXPECT_TRUE(opened.stream->Write(sent, In(10s)).ok());
    opened.stream->CloseWrite();
  });
  EXPECT_EQ(ReadFully(*opened.stream, sent.size() + 1, In(10s)), sent);
  writer.join();
  opened.stream.reset();
  EXPECT_EQ(client->OpenStreamCount(), 0u);
}

TEST(TunnelConnection, RefusedOpenCarriesTheErrorCode) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("refuse", 7, In(2s));
  EXPECT_FALSE(opened.stream);
  EXPECT_EQ(opened.error, ECONNREFUSED);
  EXPECT_EQ(opened.reason, "refused by test");
}

TEST(TunnelConnection, UnhandledOpenIsRefused) {
  SocketPair pair = MakeSocketPair();
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, {});
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  EXPECT_EQ(client->OpenTcp("any", 1, In(2s)).error, ECONNREFUSED);
}

TEST(TunnelConnection, SlowStreamIsBoundedByItsWindowAndBlocksNoOther) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult slow = client->OpenTcp("sink", 1, In(2s));
  ASSERT_TRUE(slow.stream);
  const std::vector<uint8_t> lots(4 * kInitialWindow, 1);
  const IoResult stuck = slow.stream->Write(lots, In(300ms));
  EXPECT_EQ(stuck.error, ETIMEDOUT);
  EXPECT_EQ(stuck.bytes, kInitialWindow);  // exactly the credit, nothing more buffered

  OpenResult fast = client->OpenTcp("echo", 1, In(2s));
  ASSERT_TRUE(fast.stream);
  const std::vector<uint8_t> hello = {'h', 'i'};
  ASSERT_TRUE(fast.stream->Write(hello, In(1s)).ok());
  EXPECT_EQ(ReadFully(*fast.stream, 2, In(2s)), hello);
}

TEST(TunnelConnection, DnsQueryGetsItsAnswer) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  const std::vector<uint8_t> query = {1, 2, 3};
  const DnsResult answer = client->QueryDns(query, In(2s));
  EXPECT_EQ(answer.error, 0);
  EXPECT_EQ(answer.message, (std::vector<uint8_t>{3, 2, 1}));
}

TEST(TunnelConnection, PeerCloseFailsStreamsAtOnce) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  ConnectionOptions options;
  options.dead_after = 400ms;
  options.keepalive_interval = 100ms;
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {}, options);
  OpenResult opened = client->OpenTcp("echo", 1, In(2s));
  ASSERT_TRUE(opened.stream);
  server.connection().Close("going away");
  std::vector<uint8_t> buffer(10);
  const auto start = Clock::now();
  const IoResult result = opened.stream->Read(buffer, In(5s));
  EXPECT_EQ(result.error, ECONNRESET);
  EXPECT_LT(Clock::now() - start, 1500ms);
  EXPECT_TRUE(client->Dead());
}

TEST(TunnelConnection, PeerThatNeverAnswersIsDeadAfterTheDeadline) {
  SocketPair pair = MakeSocketPair();  // nobody serves pair.server: no Pong ever comes back
  ConnectionOptions options;
  options.dead_after = 300ms;
  options.keepalive_interval = 100ms;
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {}, options);
  const auto start = Clock::now();
  EXPECT_TRUE(client->WaitUntilDead(In(3s)));
  EXPECT_GE(Clock::now() - start, 250ms);
  EXPECT_NE(client->FailureReason().find("no frame from peer"), std::string::npos);
  EXPECT_EQ(client->OpenTcp("echo", 1, In(1s)).error, ECONNRESET);
}

TEST(TunnelConnection, MalformedFrameKillsTheLink) {
  SocketPair pair = MakeSocketPair();
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  const std::vector<uint8_t> garbage = {0, 0, 0, 5, 99, 0, 0, 0, 0};
  ASSERT_TRUE(WriteAll(pair.server.Get(), garbage, In(1s)));
  EXPECT_TRUE(client->WaitUntilDead(In(2s)));
  EXPECT_NE(client->FailureReason().find("unknown frame type"), std::string::npos);
}

TEST(TunnelConnection, DataBeyondTheWindowKillsTheLink) {
  SocketPair pair = MakeSocketPair();
  std::vector<std::unique_ptr<TunnelStream>> accepted;  // reader thread only, then the test
  TunnelHandlers handlers;
  handlers.on_open_tcp = [&accepted](std::unique_ptr<TunnelStream> stream, const OpenTcp&) {
    stream->Accept();
    accepted.push_back(std::move(stream));
  };
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, handlers);
  // A raw client opens stream 1 and sends one byte more than the initial window at once.
  std::vector<uint8_t> bytes = EncodeFrame({1, OpenTcp{"x", 1}});
  const std::vector<uint8_t> chunk(kMaxDataChunk, 0);
  for (size_t sent = 0; sent < kInitialWindow; sent += chunk.size()) {
    AppendDataFrame(1, chunk, bytes);
  }
  AppendDataFrame(1, std::span(chunk).first(1), bytes);
  std::thread writer([&] { WriteAll(pair.client.Get(), bytes, In(2s)); });
  EXPECT_TRUE(server->WaitUntilDead(In(2s)));
  EXPECT_NE(server->FailureReason().find("credit window"), std::string::npos);
  writer.join();
  server.reset();
}

TEST(Handshake, ConstantTimeEqualsComparesWholeTexts) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_FALSE(ConstantTimeEquals("", "x"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(Handshake, WrongSecretIsRefusedAndRightOneWelcomed) {
  const Welcome welcome{{"10.0.0.0/8"}, {"default.svc.cluster.local"}, "cluster.local"};
  for (const std::string secret : {"wrong", "right"}) {
    SocketPair pair = MakeSocketPair();
    ServerHandshakeResult server_result;
    std::thread server(
        [&] { server_result = ServerHandshake(pair.server.Get(), "right", welcome, In(2s)); });
    const ClientHandshakeResult client_result =
        ClientHandshake(pair.client.Get(), Hello{kProtocolVersion, "test", secret}, In(2s));
    server.join();
    if (secret == "wrong") {
      EXPECT_TRUE(client_result.refused);
      EXPECT_NE(client_result.error.find("wrong secret"), std::string::npos);
      EXPECT_FALSE(server_result.accepted);
    } else {
      ASSERT_TRUE(client_result.welcome) << client_result.error;
      EXPECT_EQ(*client_result.welcome, welcome);
      EXPECT_TRUE(server_result.accepted);
      EXPECT_EQ(server_result.hello.client_name, "test");
      EXPECT_TRUE(server_result.hello.secret.empty());
    }
  }
}

}  // namespace
}  // namespace tp::tunnel
