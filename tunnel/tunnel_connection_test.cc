#include "tunnel/tunnel_connection.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <list>
#include <map>
#include <optional>
#include <thread>

#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/splice_pipe.h"
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

// Bytes that differ from one offset to the next, so a misplaced or lost byte shows.
std::vector<uint8_t> Pattern(size_t size, uint32_t seed) {
  std::vector<uint8_t> bytes(size);
  for (size_t index = 0; index < size; ++index) {
    bytes[index] = static_cast<uint8_t>((index * 131 + seed * 7 + (index >> 9)) & 0xff);
  }
  return bytes;
}

// The far end of a link without a TunnelConnection: writes raw bytes, decodes what comes.
class RawPeer {
 public:
  explicit RawPeer(UniqueFd socket) : socket_(std::move(socket)) {}
  int fd() const { return socket_.Get(); }
  bool Send(std::span<const uint8_t> bytes) { return WriteAll(socket_.Get(), bytes, In(5s)); }
  // Sends `bytes` in pieces of the given sizes, in turn, pausing after each so that the other
  // side reads them one by one.
  void SendInPieces(std::span<const uint8_t> bytes, const std::vector<size_t>& sizes) {
    for (size_t turn = 0; !bytes.empty(); ++turn) {
      const size_t size = std::min(bytes.size(), sizes[turn % sizes.size()]);
      ASSERT_TRUE(Send(bytes.first(size)));
      bytes = bytes.subspan(size);
      std::this_thread::sleep_for(200us);
    }
  }
  // The next frame from the connection, Ping and Pong left out (Pings are answered).
  std::optional<Frame> NextFrame(Deadline deadline) {
    while (true) {
      const DecodeResult decoded = DecodeFrame(pending_);
      if (decoded.status == DecodeStatus::kMalformed) return std::nullopt;
      if (decoded.status == DecodeStatus::kFrame) {
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<long>(decoded.consumed));
        if (const auto* ping = std::get_if<Ping>(&decoded.frame.body)) {
          std::this_thread::sleep_for(answer_delay);
          Send(EncodeFrame({0, Pong{ping->nonce}}));
          continue;
        }
        if (decoded.frame.type() == FrameType::kPong) continue;
        return decoded.frame;
      }
      pollfd waiter{socket_.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, MillisecondsUntil(deadline)) <= 0) return std::nullopt;
      uint8_t chunk[65536];
      const ssize_t got = ::recv(socket_.Get(), chunk, sizeof chunk, 0);
      if (got <= 0) return std::nullopt;
      pending_.insert(pending_.end(), chunk, chunk + got);
    }
  }
  // Collects `size` bytes of Data on stream `id`; every other frame must be a Window.
  std::vector<uint8_t> ReadData(uint32_t id, size_t size, Deadline deadline) {
    std::vector<uint8_t> bytes;
    while (bytes.size() < size) {
      std::optional<Frame> frame = NextFrame(deadline);
      if (!frame) break;
      if (const auto* data = std::get_if<Data>(&frame->body)) {
        EXPECT_EQ(frame->id, id);
        bytes.insert(bytes.end(), data->bytes.begin(), data->bytes.end());
      } else {
        EXPECT_EQ(frame->type(), FrameType::kWindow) << FrameTypeName(frame->type());
      }
    }
    return bytes;
  }

  // Sends `total` bytes of Data on stream `id` as fast as the peer's credit allows, the stream's
  // credit kept in credits[id] (from kInitialWindow); then takes Window frames until none came
  // for `quiet`. credits[id] is then the stream's receive window less what the receiver has
  // read and not granted back yet (under a quarter of it). False when the link broke.
  bool SendWithinCredit(uint32_t id, size_t total, std::map<uint32_t, size_t>& credits,
                        std::chrono::milliseconds quiet = 300ms) {
    credits.try_emplace(id, kInitialWindow);
    const std::vector<uint8_t> chunk(64 * 1024, 0x3c);
    for (size_t sent = 0; sent < total;) {
      if (credits[id] > 0) {
        const size_t count = std::min({credits[id], chunk.size(), total - sent});
        std::vector<uint8_t> frame;
        AppendDataFrame(id, std::span(chunk).first(count), frame);
        if (!Send(frame)) return false;
        credits[id] -= count;
        sent += count;
        continue;
      }
      std::optional<Frame> frame = NextFrame(In(5s));
      if (!frame) return false;
      if (const auto* window = std::get_if<Window>(&frame->body))
        credits[frame->id] += window->credit;
    }
    while (std::optional<Frame> frame = NextFrame(Clock::now() + quiet)) {
      if (const auto* window = std::get_if<Window>(&frame->body))
        credits[frame->id] += window->credit;
    }
    return true;
  }

  // How long to wait before answering a Ping: the round trip the other side measures.
  std::chrono::milliseconds answer_delay{0};

 private:
  UniqueFd socket_;
  std::vector<uint8_t> pending_;
};

// A server connection whose arriving streams the test takes, in order of arrival: accepted at
// once, or (Answer::kDeferred) left for the test to accept or refuse.
class AcceptingServer {
 public:
  enum class Answer { kAcceptAtOnce, kDeferred };
  explicit AcceptingServer(UniqueFd socket, ConnectionOptions options = {},
                           Answer answer = Answer::kAcceptAtOnce) {
    TunnelHandlers handlers;
    handlers.on_open_tcp = [this, answer](std::unique_ptr<TunnelStream> stream, const OpenTcp&) {
      if (answer == Answer::kAcceptAtOnce) stream->Accept();
      MutexLock lock(mutex_);
      streams_.push_back(std::move(stream));
      arrived_.NotifyAll();
    };
    connection_ = TunnelConnection::Start(std::move(socket), Role::kServer, handlers, options);
  }
  ~AcceptingServer() {
    connection_->Close("test over");
    MutexLock lock(mutex_);
    streams_.clear();
  }
  TunnelConnection& connection() { return *connection_; }
  // The index-th arrived stream (waits for it), owned by the server until the end.
  TunnelStream* Stream(size_t index) {
    MutexLock lock(mutex_);
    arrived_.WaitUntil(mutex_, In(5s), [&]() REQUIRES(mutex_) { return streams_.size() > index; });
    return streams_.size() > index ? streams_[index].get() : nullptr;
  }

 private:
  Mutex mutex_;
  CondVar arrived_;
  std::vector<std::unique_ptr<TunnelStream>> streams_ GUARDED_BY(mutex_);
  std::unique_ptr<TunnelConnection> connection_;
};

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
      MutexLock lock(mutex_);
      if (stopping_) return;  // the test is over: the stream is dropped
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
    // The reader thread may still be in on_open_tcp (the client can have its Opened already):
    // no thread starts after this.
    std::list<std::thread> threads;
    {
      MutexLock lock(mutex_);
      stopping_ = true;
      threads.swap(threads_);
    }
    for (auto& thread : threads) thread.join();
    MutexLock lock(mutex_);
    sinks_.clear();
  }
  TunnelConnection& connection() { return *connection_; }

 private:
  Mutex mutex_;
  bool stopping_ GUARDED_BY(mutex_) = false;
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

// A peer that never reads: what it makes us send waits in the control queue, which must not grow
// without end. The link is closed instead, saying why.
TEST(TunnelConnection, APeerThatNeverReadsLosesTheLinkInsteadOfGrowingTheQueue) {
  SocketPair pair = MakeSocketPair();
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, {});
  std::vector<std::string> subnets(2000, "10.123.234.0/24");  // about 34 KB a frame
  int sent = 0;
  while (sent < 2000 && server->SendSubnetsChanged(subnets)) ++sent;
  EXPECT_LT(sent, 2000) << "about 64 MiB queued for a peer that reads nothing";
  EXPECT_TRUE(server->Dead());
  EXPECT_NE(server->FailureReason().find("reads nothing"), std::string::npos)
      << server->FailureReason();
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

// Answers every request with its body reversed, from the reader thread.
TunnelHandlers ReversingRequestHandler(TunnelConnection** self) {
  TunnelHandlers handlers;
  handlers.on_request = [self](uint32_t id, Request request) {
    std::reverse(request.body.begin(), request.body.end());
    (*self)->SendReply(id, Reply{0, request.body}, In(1s));
  };
  return handlers;
}

TEST(TunnelConnection, CallsGoBothWays) {
  SocketPair pair = MakeSocketPair();
  TunnelConnection* server_self = nullptr;
  TunnelConnection* client_self = nullptr;
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer,
                                        ReversingRequestHandler(&server_self));
  server_self = server.get();
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient,
                                        ReversingRequestHandler(&client_self));
  client_self = client.get();
  const CallResult from_client = client->Call(R"({"op":"list"})", In(2s));
  EXPECT_EQ(from_client.error, 0);
  EXPECT_EQ(from_client.body, R"(}"tsil":"po"{)");
  const CallResult from_server = server->Call("abc", In(2s));
  EXPECT_EQ(from_server.error, 0);
  EXPECT_EQ(from_server.body, "cba");
}

TEST(TunnelConnection, CallWithoutAHandlerGetsEnosys) {
  SocketPair pair = MakeSocketPair();
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, {});
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  const CallResult result = client->Call("{}", In(2s));
  EXPECT_EQ(result.error, ENOSYS);
  EXPECT_NE(result.body.find("\"error\""), std::string::npos);
}

TEST(TunnelConnection, ReplyMayComeLaterFromAnotherThreadAndCallsMatchTheirReplies) {
  SocketPair pair = MakeSocketPair();
  Mutex mutex;
  std::vector<std::pair<uint32_t, std::string>> held;
  CondVar arrived;
  TunnelHandlers handlers;
  handlers.on_request = [&](uint32_t id, Request request) {
    MutexLock lock(mutex);
    held.emplace_back(id, std::move(request.body));
    arrived.NotifyAll();
  };
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, handlers);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  auto first = std::async(std::launch::async, [&] { return client->Call("first", In(5s)); });
  auto second = std::async(std::launch::async, [&] { return client->Call("second", In(5s)); });
  {
    MutexLock lock(mutex);
    ASSERT_TRUE(
        arrived.WaitUntil(mutex, In(2s), [&]() REQUIRES(mutex) { return held.size() == 2; }));
  }
  std::thread answerer([&] {  // answers in reverse order of arrival, with an error for one
    for (auto it = held.rbegin(); it != held.rend(); ++it) {
      const int error = it->second == "second" ? EINVAL : 0;
      EXPECT_TRUE(server->SendReply(it->first, Reply{error, "re:" + it->second}, In(1s)));
    }
  });
  answerer.join();
  const CallResult first_result = first.get();
  const CallResult second_result = second.get();
  EXPECT_EQ(first_result.error, 0);
  EXPECT_EQ(first_result.body, "re:first");
  EXPECT_EQ(second_result.error, EINVAL);
  EXPECT_EQ(second_result.body, "re:second");
}

TEST(TunnelConnection, CallWithoutAnAnswerTimesOutAndALateReplyIsIgnored) {
  SocketPair pair = MakeSocketPair();
  std::promise<uint32_t> request_id;
  TunnelHandlers handlers;
  handlers.on_request = [&](uint32_t id, Request) { request_id.set_value(id); };
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, handlers);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  const auto start = Clock::now();
  EXPECT_EQ(client->Call("{}", In(300ms)).error, ETIMEDOUT);
  EXPECT_GE(Clock::now() - start, 250ms);
  auto id = request_id.get_future();
  ASSERT_EQ(id.wait_for(1s), std::future_status::ready);
  EXPECT_TRUE(server->SendReply(id.get(), Reply{0, "late"}, In(1s)));
  EXPECT_EQ(server->Call("{}", In(2s)).error, ENOSYS);  // the link survived the late reply
  EXPECT_FALSE(client->Dead());
}

TEST(TunnelConnection, TunnelDeathFailsPendingCallsAtOnce) {
  SocketPair pair = MakeSocketPair();
  std::promise<void> received;
  TunnelHandlers handlers;
  handlers.on_request = [&](uint32_t, Request) { received.set_value(); };
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, handlers);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  auto call = std::async(std::launch::async, [&] { return client->Call("{}", In(10s)); });
  ASSERT_EQ(received.get_future().wait_for(2s), std::future_status::ready);
  const auto start = Clock::now();
  server->Close("going away");
  EXPECT_EQ(call.get().error, ECONNRESET);
  EXPECT_LT(Clock::now() - start, 2s);
  EXPECT_EQ(client->Call("{}", In(1s)).error, ECONNRESET);
  EXPECT_FALSE(server->SendReply(1, Reply{}, In(100ms)));
}

TEST(TunnelConnection, ServerOpensAStreamToTheClient) {
  SocketPair pair = MakeSocketPair();
  std::promise<std::unique_ptr<TunnelStream>> accepted;
  TunnelHandlers handlers;
  handlers.on_open_tcp = [&](std::unique_ptr<TunnelStream> stream, const OpenTcp& request) {
    EXPECT_EQ(request.host, "engagement/e-1");
    EXPECT_EQ(request.port, 8080);
    stream->Accept();
    accepted.set_value(std::move(stream));
  };
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, handlers);
  auto server = TunnelConnection::Start(std::move(pair.server), Role::kServer, {});
  OpenResult opened = server->OpenTcp("engagement/e-1", 8080, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  EXPECT_EQ(opened.stream->id() % 2, 0u);
  auto future = accepted.get_future();
  ASSERT_EQ(future.wait_for(2s), std::future_status::ready);
  std::unique_ptr<TunnelStream> client_stream = future.get();
  const std::vector<uint8_t> hello = {'h', 'i'};
  ASSERT_TRUE(opened.stream->Write(hello, In(1s)).ok());
  opened.stream->CloseWrite();
  EXPECT_EQ(ReadFully(*client_stream, 3, In(2s)), hello);
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

// A raw client that answers Pings 30 ms late (a link of 30 ms round trip) opens a stream to a
// server that reads fast: the server's receive window for it grows past kInitialWindow, up to
// max_stream_window and no further.
TEST(TunnelConnection, ReceiveWindowGrowsWhileTheReaderKeepsUpUpToItsMaximum) {
  SocketPair pair = MakeSocketPair();
  ConnectionOptions options;
  options.max_stream_window = 4 * kInitialWindow;
  AcceptingServer server(std::move(pair.server), options);
  RawPeer client(std::move(pair.client));
  client.answer_delay = 30ms;
  ASSERT_TRUE(client.Send(EncodeFrame({1, OpenTcp{"x", 1}})));
  const size_t total = 16 * kInitialWindow;
  std::thread reader([&] {
    TunnelStream* stream = server.Stream(0);
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(ReadFully(*stream, total, In(20s)).size(), total);
  });
  std::map<uint32_t, size_t> credits;
  EXPECT_TRUE(client.SendWithinCredit(1, total, credits));
  reader.join();
  EXPECT_GT(credits[1], kInitialWindow);
  EXPECT_LE(credits[1], options.max_stream_window);
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
}

// The same link, then a reader that falls behind (never finding the stream empty): the window
// gives its growth back, so that what the peer may make us buffer shrinks again.
TEST(TunnelConnection, ReceiveWindowGivesUpItsGrowthWhenTheReaderIsTheLimit) {
  SocketPair pair = MakeSocketPair();
  ConnectionOptions options;
  options.max_stream_window = 4 * kInitialWindow;
  AcceptingServer server(std::move(pair.server), options);
  RawPeer client(std::move(pair.client));
  client.answer_delay = 30ms;
  ASSERT_TRUE(client.Send(EncodeFrame({1, OpenTcp{"x", 1}})));
  const size_t fast = 16 * kInitialWindow;
  const size_t slow = 12 * kInitialWindow;
  std::thread reader([&] {
    TunnelStream* stream = server.Stream(0);
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(ReadFully(*stream, fast, In(20s)).size(), fast);
    std::this_thread::sleep_for(200ms);  // the window fills up
    std::vector<uint8_t> buffer(128 * 1024);
    for (size_t got = 0; got < slow;) {
      std::this_thread::sleep_for(5ms);
      const IoResult read = stream->Read(buffer, In(5s));
      if (!read.ok() || read.bytes == 0) break;
      got += read.bytes;
    }
  });
  std::map<uint32_t, size_t> credits;
  ASSERT_TRUE(client.SendWithinCredit(1, fast, credits, 100ms));
  const size_t grown = credits[1] + kInitialWindow / 4;  // at most that much not granted yet
  EXPECT_GT(credits[1], kInitialWindow);
  ASSERT_TRUE(client.SendWithinCredit(1, slow, credits));
  reader.join();
  EXPECT_LT(credits[1] + kInitialWindow / 4, grown);
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
}

// Without a round trip worth growing for (a socket pair answers Pings at once), a window stays
// at kInitialWindow however fast its reader is.
TEST(TunnelConnection, ReceiveWindowStaysPutOnAShortRoundTrip) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  RawPeer client(std::move(pair.client));
  EXPECT_FALSE(client.NextFrame(In(150ms)));  // answers the first Pings at once
  ASSERT_TRUE(client.Send(EncodeFrame({1, OpenTcp{"x", 1}})));
  const size_t total = 8 * kInitialWindow;
  std::thread reader([&] {
    TunnelStream* stream = server.Stream(0);
    ASSERT_NE(stream, nullptr);
    EXPECT_EQ(ReadFully(*stream, total, In(20s)).size(), total);
  });
  std::map<uint32_t, size_t> credits;
  EXPECT_TRUE(client.SendWithinCredit(1, total, credits));
  reader.join();
  EXPECT_LE(credits[1], kInitialWindow);
}

// The growth of all streams' windows together stays within max_window_growth: a second stream
// finds the budget spent by the first; a peer that sends past what it was granted loses the link.
TEST(TunnelConnection, WindowGrowthIsCappedPerLinkAndTheGrantedWindowIsEnforced) {
  SocketPair pair = MakeSocketPair();
  ConnectionOptions options;
  options.max_stream_window = 8 * kInitialWindow;
  options.max_window_growth = 3 * kInitialWindow / 2;
  AcceptingServer server(std::move(pair.server), options);
  RawPeer client(std::move(pair.client));
  client.answer_delay = 30ms;
  ASSERT_TRUE(client.Send(EncodeFrame({1, OpenTcp{"x", 1}})));
  ASSERT_TRUE(client.Send(EncodeFrame({3, OpenTcp{"x", 1}})));
  const size_t total = 16 * kInitialWindow;
  std::thread reader([&] {
    for (size_t index = 0; index < 2; ++index) {
      TunnelStream* stream = server.Stream(index);
      ASSERT_NE(stream, nullptr);
      EXPECT_EQ(ReadFully(*stream, total, In(20s)).size(), total);
    }
  });
  std::map<uint32_t, size_t> credits;
  EXPECT_TRUE(client.SendWithinCredit(1, total, credits));
  EXPECT_TRUE(client.SendWithinCredit(3, total, credits));
  reader.join();
  EXPECT_GT(credits[1], kInitialWindow);  // the first stream grew
  EXPECT_LE(credits[1] + credits[3], 2 * kInitialWindow + options.max_window_growth);
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();

  // One byte past the credit granted to stream 1 (nobody reads it any more).
  const std::vector<uint8_t> chunk(kMaxDataChunk, 0);
  std::vector<uint8_t> bytes;
  for (size_t left = credits[1]; left > 0;) {
    const size_t count = std::min(left, chunk.size());
    AppendDataFrame(1, std::span(chunk).first(count), bytes);
    left -= count;
  }
  AppendDataFrame(1, std::span(chunk).first(1), bytes);
  std::thread writer([&] { client.Send(bytes); });
  EXPECT_TRUE(server.connection().WaitUntilDead(In(5s)));
  EXPECT_NE(server.connection().FailureReason().find("credit window"), std::string::npos)
      << server.connection().FailureReason();
  writer.join();
}

// The opener writes and half-closes at once, without waiting for Opened; the accepting side
// keeps the bytes until its handler accepts, then reads them all and the end.
TEST(TunnelConnection, EarlyDataTravelsWithTheOpenAndWaitsForTheAccept) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server), {}, AcceptingServer::Answer::kDeferred);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> stream = client->OpenTcpEarly("x", 1, In(5s));
  const std::vector<uint8_t> request = Pattern(100000, 3);
  ASSERT_TRUE(stream->Write(request, In(1s)).ok());
  stream->CloseWrite();
  EXPECT_FALSE(stream->WasOpened());
  TunnelStream* accepted = server.Stream(0);
  ASSERT_NE(accepted, nullptr);
  std::this_thread::sleep_for(50ms);  // the bytes arrive before the accept
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
  accepted->Accept();
  EXPECT_EQ(ReadFully(*accepted, request.size() + 1, In(2s)), request);  // then the end
  const std::vector<uint8_t> answer = {'o', 'k'};
  ASSERT_TRUE(accepted->Write(answer, In(1s)).ok());
  accepted->CloseWrite();
  EXPECT_EQ(ReadFully(*stream, 3, In(2s)), answer);
  EXPECT_TRUE(stream->WasOpened());
}

// Before the answer the opener may send kInitialWindow and no more; the rest follows the accept.
TEST(TunnelConnection, EarlyDataIsBoundedByTheInitialWindow) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server), {}, AcceptingServer::Answer::kDeferred);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> stream = client->OpenTcpEarly("x", 1, In(5s));
  const std::vector<uint8_t> sent = Pattern(2 * kInitialWindow + 7, 8);
  const IoResult early = stream->Write(sent, In(300ms));
  EXPECT_EQ(early.error, ETIMEDOUT);
  EXPECT_EQ(early.bytes, kInitialWindow);
  TunnelStream* accepted = server.Stream(0);
  ASSERT_NE(accepted, nullptr);
  accepted->Accept();
  std::thread writer(
      [&] { EXPECT_TRUE(stream->Write(std::span(sent).subspan(early.bytes), In(5s)).ok()); });
  EXPECT_EQ(ReadFully(*accepted, sent.size(), In(5s)), sent);
  writer.join();
}

// ForwardTo moves one stream's bytes and end on to a stream of another tunnel, in order, more
// than the windows hold (the relay of the manager between an agent and a daemon).
TEST(TunnelConnection, ForwardToMovesAStreamOnToAnotherTunnel) {
  SocketPair first_pair = MakeSocketPair();
  SocketPair second_pair = MakeSocketPair();
  AcceptingServer first_server(std::move(first_pair.server));
  AcceptingServer second_server(std::move(second_pair.server));
  auto first = TunnelConnection::Start(std::move(first_pair.client), Role::kClient, {});
  auto second = TunnelConnection::Start(std::move(second_pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> source = first->OpenTcpEarly("x", 1, In(5s));
  std::unique_ptr<TunnelStream> target = second->OpenTcpEarly("y", 1, In(5s));
  const std::vector<uint8_t> sent = Pattern(8 * kInitialWindow + 3, 11);
  std::thread writer([&] {
    EXPECT_TRUE(source->Write(sent, In(10s)).ok());
    source->CloseWrite();
  });
  TunnelStream* from = first_server.Stream(0);
  ASSERT_NE(from, nullptr);
  std::thread forwarder([&] {
    std::vector<uint8_t> scratch(4096);
    IoResult moved;
    while ((moved = from->ForwardTo(*target, scratch, In(10s))).ok() && moved.bytes > 0) {
    }
    EXPECT_TRUE(moved.ok()) << moved.error;
    target->CloseWrite();
  });
  TunnelStream* to = second_server.Stream(0);
  ASSERT_NE(to, nullptr);
  EXPECT_EQ(ReadFully(*to, sent.size() + 1, In(10s)), sent);  // then the end
  writer.join();
  forwarder.join();
}

// The accepting side may read the early bytes before it answers (a relay that passes them on
// while its own open is pending); its Accept then credits them back, so a writer that used the
// whole initial window goes on.
TEST(TunnelConnection, EarlyBytesReadBeforeTheAcceptAreCreditedByIt) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server), {}, AcceptingServer::Answer::kDeferred);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> stream = client->OpenTcpEarly("x", 1, In(5s));
  const std::vector<uint8_t> sent = Pattern(3 * kInitialWindow + 5, 9);
  std::thread writer([&] { EXPECT_TRUE(stream->Write(sent, In(5s)).ok()); });
  TunnelStream* accepted = server.Stream(0);
  ASSERT_NE(accepted, nullptr);
  EXPECT_EQ(ReadFully(*accepted, kInitialWindow, In(5s)),
            std::vector<uint8_t>(sent.begin(), sent.begin() + kInitialWindow));
  accepted->Accept();
  EXPECT_EQ(ReadFully(*accepted, sent.size() - kInitialWindow, In(5s)),
            std::vector<uint8_t>(sent.begin() + kInitialWindow, sent.end()));
  writer.join();
}

// AwaitOpen waits for the answer without taking bytes: ETIMEDOUT before it, then ok once
// accepted (the early bytes still there to read), or the refusal's errno.
TEST(TunnelConnection, AwaitOpenReportsTheAnswer) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server), {}, AcceptingServer::Answer::kDeferred);
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> accepted_early = client->OpenTcpEarly("x", 1, In(5s));
  std::unique_ptr<TunnelStream> refused_early = client->OpenTcpEarly("y", 1, In(5s));
  EXPECT_EQ(accepted_early->AwaitOpen(In(50ms)).error, ETIMEDOUT);
  TunnelStream* accepted = server.Stream(0);
  TunnelStream* refused = server.Stream(1);
  ASSERT_TRUE(accepted && refused);
  EXPECT_TRUE(accepted->AwaitOpen(In(1s)).ok()) << "a received stream: at once";
  const std::vector<uint8_t> hello = {'h', 'i'};
  accepted->Accept();
  ASSERT_TRUE(accepted->Write(hello, In(1s)).ok());
  refused->Refuse(EHOSTUNREACH, "no route");
  EXPECT_TRUE(accepted_early->AwaitOpen(In(2s)).ok());
  EXPECT_TRUE(accepted_early->WasOpened());
  EXPECT_EQ(ReadFully(*accepted_early, 2, In(2s)), hello);
  EXPECT_EQ(refused_early->AwaitOpen(In(2s)).error, EHOSTUNREACH);
  EXPECT_EQ(refused_early->FailureReason(), "no route");
}

// A refused open fails the stream that already carried data: its reads and writes get the
// refusal, the link stays up (the early bytes are dropped, no protocol violation), and the next
// stream works.
TEST(TunnelConnection, EarlyDataToARefusedOpenEndsInTheRefusal) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> refused = client->OpenTcpEarly("refuse", 7, In(5s));
  const std::vector<uint8_t> request = Pattern(300000, 4);
  // Within the initial window: sent at once, unless the refusal is back already.
  const IoResult early = refused->Write(request, In(1s));
  EXPECT_TRUE(early.ok() || early.error == ECONNREFUSED) << early.error;
  std::vector<uint8_t> buffer(16);
  const IoResult read = refused->Read(buffer, In(2s));
  EXPECT_EQ(read.error, ECONNREFUSED);
  EXPECT_EQ(refused->FailureReason(), "refused by test");
  EXPECT_FALSE(refused->WasOpened());
  EXPECT_EQ(refused->Write(request, In(1s)).error, ECONNREFUSED);

  std::unique_ptr<TunnelStream> next = client->OpenTcpEarly("echo", 7, In(5s));
  const std::vector<uint8_t> hello = {'h', 'i'};
  ASSERT_TRUE(next->Write(hello, In(1s)).ok());
  EXPECT_EQ(ReadFully(*next, 2, In(2s)), hello);
  EXPECT_FALSE(client->Dead()) << client->FailureReason();
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
}

// Bytes the peer sent before it learnt that a stream was refused here (or reset here) are still
// on the wire while the refusal goes out: they are dropped, never taken for a protocol violation
// that kills the link. (Seen: greeter's request to an engagement whose handler was starting was
// refused by the daemon, and the daemon's whole tunnel to the traffic-manager went down with it,
// and every engagement with the tunnel.) The peer keeps sending to each stream while it is
// refused from another thread, stream after stream.
TEST(TunnelConnection, BytesInFlightToAStreamRefusedHereAreDropped) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server), {}, AcceptingServer::Answer::kDeferred);
  RawPeer client(std::move(pair.client));
  std::thread drain([fd = client.fd()] {  // the server's answers, read and thrown away
    std::vector<uint8_t> buffer(65536);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
  });
  constexpr int kStreams = 1000;
  for (int index = 0; index < kStreams && !server.connection().Dead(); ++index) {
    const uint32_t id = static_cast<uint32_t>(2 * index + 1);
    ASSERT_TRUE(client.Send(EncodeFrame({id, OpenTcp{"x", 1}})));
    TunnelStream* stream = server.Stream(static_cast<size_t>(index));
    ASSERT_NE(stream, nullptr);
    std::atomic<bool> refused{false};
    std::thread sender([&] {
      const std::vector<uint8_t> one = {'x'};
      for (int sent = 0; sent < 2000 && !refused.load(); ++sent) {
        std::vector<uint8_t> bytes;
        AppendDataFrame(id, one, bytes);
        if (!client.Send(bytes)) return;
      }
    });
    std::this_thread::sleep_for(50us);
    stream->Refuse(ECONNREFUSED, "no handler yet");
    refused = true;
    sender.join();
  }
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
  ::shutdown(client.fd(), SHUT_RDWR);
  drain.join();
}

// On the wire: OpenTcp, Data and a half-close in one write, before any Opened, are no violation.
TEST(TunnelConnection, DataRightAfterOpenTcpOnTheWireIsKept) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  RawPeer client(std::move(pair.client));
  std::vector<uint8_t> bytes = EncodeFrame({1, OpenTcp{"x", 1}});
  const std::vector<uint8_t> request = {'G', 'E', 'T'};
  AppendDataFrame(1, request, bytes);
  AppendFrame({1, Close{CloseMode::kHalfClose}}, bytes);
  ASSERT_TRUE(client.Send(bytes));
  TunnelStream* stream = server.Stream(0);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(ReadFully(*stream, 4, In(2s)), request);
  std::optional<Frame> answer = client.NextFrame(In(2s));
  ASSERT_TRUE(answer);
  EXPECT_EQ(answer->type(), FrameType::kOpened);
}

// An early open nobody answers is reset at its answer deadline (the peer is told); a refusal
// with ETIMEDOUT (the far side's dial timed out) fails reads with ECONNRESET, never with the
// "try again" of a read deadline.
TEST(TunnelConnection, EarlyOpenWithoutAnAnswerIsResetAndATimedOutDialReadsAsReset) {
  SocketPair pair = MakeSocketPair();
  RawPeer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::unique_ptr<TunnelStream> timed_out = client->OpenTcpEarly("x", 1, In(5s));
  std::unique_ptr<TunnelStream> unanswered = client->OpenTcpEarly("y", 1, In(200ms));
  std::optional<Frame> first = server.NextFrame(In(2s));
  std::optional<Frame> second = server.NextFrame(In(2s));
  ASSERT_TRUE(first && second);
  ASSERT_EQ(first->type(), FrameType::kOpenTcp);
  ASSERT_EQ(second->type(), FrameType::kOpenTcp);
  ASSERT_TRUE(server.Send(EncodeFrame({first->id, OpenFailed{ETIMEDOUT, "dial timed out"}})));
  std::vector<uint8_t> buffer(16);
  EXPECT_EQ(timed_out->Read(buffer, In(2s)).error, ECONNRESET);
  EXPECT_EQ(timed_out->FailureReason(), "dial timed out");

  const auto start = Clock::now();
  IoResult read;
  while ((read = unanswered->Read(buffer, In(2s))).error == ETIMEDOUT) {
  }
  EXPECT_EQ(read.error, ECONNRESET);
  EXPECT_LT(Clock::now() - start, 1s);
  EXPECT_EQ(unanswered->FailureReason(), "no answer to the open in time");
  std::optional<Frame> reset = server.NextFrame(In(2s));
  ASSERT_TRUE(reset);
  EXPECT_EQ(reset->id, second->id);
  EXPECT_EQ(std::get<Close>(reset->body).mode, CloseMode::kReset);
}

TEST(TunnelConnection, FramesSplitAcrossReadsAreReassembled) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  RawPeer client(std::move(pair.client));
  std::vector<uint8_t> bytes = EncodeFrame({1, OpenTcp{"x", 1}});
  std::vector<uint8_t> expected;
  uint32_t seed = 0;
  for (const size_t size : {1, 8, 9, 10, 100, 16385, 70000, 300000, 2, 65536}) {
    const std::vector<uint8_t> payload = Pattern(size, ++seed);
    ASSERT_TRUE(AppendDataFrame(1, payload, bytes));
    ASSERT_TRUE(AppendFrame({0, Ping{seed}}, bytes));
    expected.insert(expected.end(), payload.begin(), payload.end());
  }
  ASSERT_TRUE(AppendFrame({1, Close{CloseMode::kHalfClose}}, bytes));
  // Every header and payload is cut somewhere: tiny pieces, then larger ones, over and over.
  std::thread writer([&] {
    client.SendInPieces(bytes, {1,   2,   3,   5,   8,   13,   21,   34,    55,    89,
                                144, 233, 377, 610, 987, 1597, 4181, 10946, 28657, 46368});
  });
  TunnelStream* stream = server.Stream(0);
  ASSERT_NE(stream, nullptr);
  EXPECT_EQ(ReadFully(*stream, expected.size() + 1, In(10s)), expected);
  writer.join();
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
}

TEST(TunnelConnection, ManyFramesInOneReadReachTheirStreams) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  RawPeer client(std::move(pair.client));
  std::vector<uint8_t> bytes = EncodeFrame({1, OpenTcp{"x", 1}});
  ASSERT_TRUE(AppendFrame({3, OpenTcp{"y", 1}}, bytes));
  std::vector<uint8_t> expected[2];
  for (uint32_t index = 0; index < 3000; ++index) {
    const uint32_t id = index % 2 == 0 ? 1 : 3;
    const std::vector<uint8_t> payload = Pattern(1 + index % 50, index);
    ASSERT_TRUE(AppendDataFrame(id, payload, bytes));
    auto& into = expected[index % 2];
    into.insert(into.end(), payload.begin(), payload.end());
    if (index % 100 == 0) {
      ASSERT_TRUE(AppendFrame({0, Ping{index}}, bytes));
    }
  }
  ASSERT_TRUE(AppendFrame({1, Close{CloseMode::kHalfClose}}, bytes));
  ASSERT_TRUE(AppendFrame({3, Close{CloseMode::kHalfClose}}, bytes));
  std::thread writer([&] { EXPECT_TRUE(client.Send(bytes)); });
  TunnelStream* first = server.Stream(0);
  TunnelStream* second = server.Stream(1);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  // The second stream is read only after the first ended: its bytes wait in its buffer.
  EXPECT_EQ(ReadFully(*first, expected[0].size() + 1, In(10s)), expected[0]);
  EXPECT_EQ(ReadFully(*second, expected[1].size() + 1, In(10s)), expected[1]);
  writer.join();
  EXPECT_FALSE(server.connection().Dead()) << server.connection().FailureReason();
}

TEST(TunnelConnection, ReadsOfAnySizeGetEveryByteInOrder) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("echo", 7, In(2s));
  ASSERT_TRUE(opened.stream);
  const std::vector<uint8_t> sent = Pattern(3 * kInitialWindow / 2 + 11, 5);
  std::thread writer([&] {
    EXPECT_TRUE(opened.stream->Write(sent, In(10s)).ok());
    opened.stream->CloseWrite();
  });
  std::vector<uint8_t> received;
  std::vector<uint8_t> buffer(70000);
  for (size_t turn = 0;; ++turn) {
    // 1 byte, 7 bytes, ..., up to more than a Data frame.
    const size_t size = std::min<size_t>(buffer.size(), 1 + (turn * turn * 7) % buffer.size());
    const IoResult result = opened.stream->Read(std::span(buffer).first(size), In(10s));
    ASSERT_TRUE(result.ok()) << result.error;
    if (result.bytes == 0) break;
    received.insert(received.end(), buffer.begin(),
                    buffer.begin() + static_cast<long>(result.bytes));
  }
  writer.join();
  EXPECT_EQ(received, sent);
}

TEST(TunnelConnection, ReadThatTimesOutLosesNothing) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("echo", 7, In(2s));
  ASSERT_TRUE(opened.stream);
  std::vector<uint8_t> buffer(100);
  EXPECT_EQ(opened.stream->Read(buffer, In(50ms)).error, ETIMEDOUT);
  const std::vector<uint8_t> hello = {'h', 'e', 'l', 'l', 'o'};
  ASSERT_TRUE(opened.stream->Write(hello, In(1s)).ok());
  EXPECT_EQ(ReadFully(*opened.stream, hello.size(), In(2s)), hello);
}

TEST(TunnelConnection, ConcurrentStreamsKeepTheirBytesApart) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  std::vector<std::thread> users;
  for (uint32_t index = 0; index < 4; ++index) {
    users.emplace_back([&client, index] {
      OpenResult opened = client->OpenTcp("echo", 7, In(2s));
      ASSERT_TRUE(opened.stream);
      // More than the window, in writes of odd sizes.
      const std::vector<uint8_t> sent = Pattern(2 * kInitialWindow + index * 1000 + 3, index);
      std::thread writer([&] {
        std::span<const uint8_t> rest(sent);
        while (!rest.empty()) {
          const size_t size = std::min<size_t>(rest.size(), 100000 + index * 33333);
          EXPECT_TRUE(opened.stream->Write(rest.first(size), In(20s)).ok());
          rest = rest.subspan(size);
        }
        opened.stream->CloseWrite();
      });
      EXPECT_EQ(ReadFully(*opened.stream, sent.size() + 1, In(20s)), sent);
      writer.join();
    });
  }
  for (auto& user : users) user.join();
  EXPECT_FALSE(client->Dead()) << client->FailureReason();
}

// A Write that gives up while the socket is full has sent a frame in part: the rest follows
// before anything else, so the peer sees whole frames only, and exactly the bytes reported.
TEST(TunnelConnection, WriteThatTimesOutMidFrameLeavesWholeFrames) {
  SocketPair pair = MakeSocketPair();
  const int small = 16 * 1024;
  ::setsockopt(pair.client.Get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(pair.server.Get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  RawPeer server(std::move(pair.server));
  ConnectionOptions options;
  options.dead_after = 10s;
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {}, options);
  std::promise<OpenResult> opening;
  std::thread opener([&] { opening.set_value(client->OpenTcp("x", 1, In(5s))); });
  std::optional<Frame> open = server.NextFrame(In(5s));
  ASSERT_TRUE(open);
  ASSERT_EQ(open->type(), FrameType::kOpenTcp);
  ASSERT_TRUE(server.Send(EncodeFrame({open->id, Opened{}})));
  opener.join();
  OpenResult opened = opening.get_future().get();
  ASSERT_TRUE(opened.stream) << opened.reason;

  const std::vector<uint8_t> sent = Pattern(kInitialWindow, 9);
  const IoResult stuck = opened.stream->Write(sent, In(200ms));
  EXPECT_EQ(stuck.error, ETIMEDOUT);
  EXPECT_GT(stuck.bytes, 0u);
  EXPECT_LT(stuck.bytes, sent.size());
  std::thread rest([&] {
    EXPECT_TRUE(opened.stream->Write(std::span(sent).subspan(stuck.bytes), In(5s)).ok());
  });
  EXPECT_EQ(server.ReadData(open->id, sent.size(), In(5s)), sent);
  rest.join();
  EXPECT_FALSE(client->Dead()) << client->FailureReason();
}

// Reads `socket` until it ends or `size` bytes came.
std::vector<uint8_t> ReadSocketFully(int socket, size_t size) {
  std::vector<uint8_t> bytes(size);
  size_t got = 0;
  while (got < size) {
    pollfd waiter{socket, POLLIN, 0};
    if (::poll(&waiter, 1, 10000) <= 0) break;
    const ssize_t count = ::recv(socket, bytes.data() + got, size - got, MSG_DONTWAIT);
    if (count < 0 && errno == EAGAIN) continue;
    if (count <= 0) break;
    got += static_cast<size_t>(count);
  }
  bytes.resize(got);
  return bytes;
}

TEST(TunnelConnection, WriteFromPipeSendsThePipedBytesInOrder) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("any", 1, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  TunnelStream* far = server.Stream(0);
  ASSERT_NE(far, nullptr);
  SplicePipe pipe = SplicePipe::Make();
  ASSERT_TRUE(pipe.Valid());
  const std::vector<uint8_t> sent = Pattern(3 * kInitialWindow + 5, 3);
  std::thread writer([&] {
    // Through the pipe in pieces, the way a relay splices a socket's bytes.
    for (size_t offset = 0; offset < sent.size();) {
      const size_t piece = std::min<size_t>(sent.size() - offset, 48 * 1024);
      ASSERT_EQ(::write(pipe.write_end.Get(), sent.data() + offset, piece),
                static_cast<ssize_t>(piece));
      const IoResult written = opened.stream->WriteFromPipe(pipe.read_end.Get(), piece, In(10s));
      ASSERT_TRUE(written.ok());
      ASSERT_EQ(written.bytes, piece);
      offset += piece;
    }
    opened.stream->CloseWrite();
  });
  EXPECT_EQ(ReadFully(*far, sent.size() + 1, In(10s)), sent);
  writer.join();
}

TEST(TunnelConnection, WriteFromPipeThatTimesOutLeavesTheRestInThePipe) {
  SocketPair pair = MakeSocketPair();
  EchoServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult slow = client->OpenTcp("sink", 1, In(2s));
  ASSERT_TRUE(slow.stream);
  // All the credit but 1000 bytes goes from memory; then 5000 bytes wait in the pipe.
  const std::vector<uint8_t> most(kInitialWindow - 1000, 1);
  ASSERT_TRUE(slow.stream->Write(most, In(2s)).ok());
  SplicePipe pipe = SplicePipe::Make();
  ASSERT_TRUE(pipe.Valid());
  const std::vector<uint8_t> more(5000, 2);
  ASSERT_EQ(::write(pipe.write_end.Get(), more.data(), more.size()),
            static_cast<ssize_t>(more.size()));
  const IoResult stuck = slow.stream->WriteFromPipe(pipe.read_end.Get(), more.size(), In(300ms));
  EXPECT_EQ(stuck.error, ETIMEDOUT);
  EXPECT_EQ(stuck.bytes, 1000u);
  int left = 0;
  ASSERT_EQ(::ioctl(pipe.read_end.Get(), FIONREAD, &left), 0);
  EXPECT_EQ(left, 4000);
}

TEST(TunnelConnection, ReadToSocketHandsOnEveryByteInOrderThenTheEnd) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("any", 1, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  TunnelStream* far = server.Stream(0);
  ASSERT_NE(far, nullptr);
  SocketPair out = MakeSocketPair();
  const std::vector<uint8_t> sent = Pattern(5 * kInitialWindow / 2 + 11, 4);
  std::thread writer([&] {
    // A first piece before the pipe exists, then the rest in pieces of varied sizes.
    EXPECT_TRUE(far->Write(std::span(sent).first(1000), In(10s)).ok());
    std::this_thread::sleep_for(50ms);
    for (size_t offset = 1000, turn = 0; offset < sent.size(); ++turn) {
      const size_t piece = std::min<size_t>(sent.size() - offset, turn % 2 ? 7 : 300 * 1024);
      EXPECT_TRUE(far->Write(std::span(sent).subspan(offset, piece), In(10s)).ok());
      offset += piece;
    }
    far->CloseWrite();
  });
  std::vector<uint8_t> received;
  std::thread drainer([&] { received = ReadSocketFully(out.server.Get(), sent.size() + 1); });
  bool ended = false;
  while (!ended) {
    const IoResult moved = opened.stream->ReadToSocket(out.client.Get(), 1 << 20, In(10s));
    if (moved.error == EAGAIN) {
      pollfd waiter{out.client.Get(), POLLOUT, 0};
      ASSERT_EQ(::poll(&waiter, 1, 10000), 1);
      continue;
    }
    ASSERT_TRUE(moved.ok()) << moved.error;
    ended = moved.bytes == 0;
  }
  ::shutdown(out.client.Get(), SHUT_WR);
  drainer.join();
  writer.join();
  EXPECT_EQ(received.size(), sent.size());
  EXPECT_TRUE(received == sent);
}

TEST(TunnelConnection, ReadToSocketSaysEagainWhenTheSocketIsFullAndLosesNothing) {
  SocketPair pair = MakeSocketPair();
  AcceptingServer server(std::move(pair.server));
  auto client = TunnelConnection::Start(std::move(pair.client), Role::kClient, {});
  OpenResult opened = client->OpenTcp("any", 1, In(2s));
  ASSERT_TRUE(opened.stream) << opened.reason;
  TunnelStream* far = server.Stream(0);
  ASSERT_NE(far, nullptr);
  SocketPair out = MakeSocketPair();
  const int small = 4096;
  ::setsockopt(out.client.Get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
  ::setsockopt(out.server.Get(), SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  const std::vector<uint8_t> sent = Pattern(kInitialWindow, 6);
  ASSERT_TRUE(far->Write(sent, In(10s)).ok());
  far->CloseWrite();
  size_t moved_total = 0;
  IoResult moved;
  do {
    moved = opened.stream->ReadToSocket(out.client.Get(), 1 << 20, In(2s));
    moved_total += moved.bytes;
  } while (moved.ok() && moved.bytes > 0);
  EXPECT_EQ(moved.error, EAGAIN);
  EXPECT_LT(moved_total, sent.size());
  std::vector<uint8_t> received;
  std::thread drainer([&] { received = ReadSocketFully(out.server.Get(), sent.size() + 1); });
  while (true) {
    moved = opened.stream->ReadToSocket(out.client.Get(), 1 << 20, In(10s));
    if (moved.error == EAGAIN) {
      pollfd waiter{out.client.Get(), POLLOUT, 0};
      ASSERT_EQ(::poll(&waiter, 1, 10000), 1);
      continue;
    }
    ASSERT_TRUE(moved.ok()) << moved.error;
    if (moved.bytes == 0) break;
  }
  ::shutdown(out.client.Get(), SHUT_WR);
  drainer.join();
  EXPECT_TRUE(received == sent);
}

TEST(Handshake, WrongSecretIsRefusedAndRightOneWelcomed) {
  const Welcome welcome{{"10.0.0.0/8"}, {"default.svc.cluster.local"}, "cluster.local"};
  for (const std::string secret : {"wrong", "right"}) {
    SocketPair pair = MakeSocketPair();
    ServerHandshakeResult server_result;
    std::thread server([&] {
      server_result = ServerHandshake(
          pair.server.Get(), [](std::string_view) { return std::string("right"); }, welcome,
          In(2s));
    });
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

// A peer of another protocol version (one that would take early Data for a violation) is
// refused with a reason that names both versions.
TEST(Handshake, AnotherProtocolVersionIsRefusedSayingBoth) {
  const Welcome welcome{{"10.0.0.0/8"}, {}, "cluster.local"};
  SocketPair pair = MakeSocketPair();
  ServerHandshakeResult server_result;
  std::thread server([&] {
    server_result = ServerHandshake(
        pair.server.Get(), [](std::string_view) { return std::string("right"); }, welcome, In(2s));
  });
  const ClientHandshakeResult client_result =
      ClientHandshake(pair.client.Get(), Hello{kProtocolVersion - 1, "test", "right"}, In(2s));
  server.join();
  EXPECT_TRUE(client_result.refused);
  EXPECT_FALSE(client_result.welcome);
  EXPECT_EQ(client_result.error, "refused by the traffic-manager: protocol version " +
                                     std::to_string(kProtocolVersion - 1) +
                                     " not supported (this manager speaks " +
                                     std::to_string(kProtocolVersion) + ")");
  EXPECT_FALSE(server_result.accepted);
}

}  // namespace
}  // namespace tp::tunnel
