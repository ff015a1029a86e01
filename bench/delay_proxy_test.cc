// Tests of the delay-proxy pieces: the DelayLine queue and a ProxyConnection over socket pairs.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <thread>

#include "bench/delay_line.h"
#include "bench/proxy_connection.h"

namespace tp::bench {
namespace {

using std::chrono::milliseconds;

std::vector<char> Bytes(const std::string& text) { return {text.begin(), text.end()}; }

TEST(DelayLineTest, ReleasesChunksInOrderAndNotBeforeTheyAreDue) {
  DelayLine line(1 << 20);
  const auto start = Clock::now();
  ASSERT_TRUE(line.Push(Bytes("first"), start + milliseconds(30)));
  ASSERT_TRUE(line.Push(Bytes("second"), start + milliseconds(40)));
  line.PushEnd(start + milliseconds(40));

  const auto first = line.PopDue();
  ASSERT_TRUE(first);
  EXPECT_GE(Clock::now() - start, milliseconds(30));
  EXPECT_EQ(std::string(first->bytes.begin(), first->bytes.end()), "first");
  const auto second = line.PopDue();
  ASSERT_TRUE(second);
  EXPECT_GE(Clock::now() - start, milliseconds(40));
  EXPECT_EQ(std::string(second->bytes.begin(), second->bytes.end()), "second");
  const auto end = line.PopDue();
  ASSERT_TRUE(end);
  EXPECT_TRUE(end->bytes.empty());
}

TEST(DelayLineTest, CloseWakesAWaitingConsumerAndRefusesMore) {
  DelayLine line(1 << 20);
  std::thread closer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    line.Close();
  });
  EXPECT_FALSE(line.PopDue());
  closer.join();
  EXPECT_FALSE(line.Push(Bytes("late"), Clock::now()));
}

TEST(DelayLineTest, ProducerWaitsWhileTheCapIsReached) {
  DelayLine line(4);
  ASSERT_TRUE(line.Push(Bytes("full"), Clock::now()));
  std::thread consumer([&] {
    std::this_thread::sleep_for(milliseconds(20));
    line.PopDue();
  });
  const auto start = Clock::now();
  EXPECT_TRUE(line.Push(Bytes("more"), Clock::now()));
  EXPECT_GE(Clock::now() - start, milliseconds(15));
  consumer.join();
}

struct SocketPair {
  SocketPair() {
    int fds[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    near.Reset(fds[0]);
    far.Reset(fds[1]);
  }
  UniqueFd near;
  UniqueFd far;
};

std::string ReadSome(int fd) {
  char buffer[256];
  const ssize_t n = read(fd, buffer, sizeof buffer);
  return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : std::string();
}

TEST(ProxyConnectionTest, DelaysEachDirectionAndPassesOnTheHalfClose) {
  SocketPair client;  // test side: client.near; proxy side: client.far
  SocketPair server;  // proxy side: server.near; test side: server.far
  const int client_fd = client.near.Get();
  const int server_fd = server.far.Get();
  ProxyConnection connection(std::move(client.far), std::move(server.near), milliseconds(30));

  auto start = Clock::now();
  ASSERT_EQ(write(client_fd, "ping", 4), 4);
  EXPECT_EQ(ReadSome(server_fd), "ping");
  EXPECT_GE(Clock::now() - start, milliseconds(30));

  start = Clock::now();
  ASSERT_EQ(write(server_fd, "pong", 4), 4);
  EXPECT_EQ(ReadSome(client_fd), "pong");
  EXPECT_GE(Clock::now() - start, milliseconds(30));

  shutdown(client_fd, SHUT_WR);
  EXPECT_EQ(ReadSome(server_fd), "");  // end of stream reaches the server
  shutdown(server_fd, SHUT_WR);
  EXPECT_EQ(ReadSome(client_fd), "");
  for (int tries = 0; tries < 100 && !connection.Finished(); ++tries) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_TRUE(connection.Finished());
}

TEST(ProxyConnectionTest, LatencyOverlapsInsteadOfAddingUpPerChunk) {
  SocketPair client;
  SocketPair server;
  const int client_fd = client.near.Get();
  const int server_fd = server.far.Get();
  ProxyConnection connection(std::move(client.far), std::move(server.near), milliseconds(50));

  const auto start = Clock::now();
  constexpr int kChunks = 20;
  for (int i = 0; i < kChunks; ++i) {
    ASSERT_EQ(write(client_fd, "x", 1), 1);
    std::this_thread::sleep_for(milliseconds(1));
  }
  size_t received = 0;
  while (received < kChunks) received += ReadSome(server_fd).size();
  // 20 chunks over a 50 ms link: about 70 ms in all, far from 20 * 50 ms.
  EXPECT_LT(Clock::now() - start, milliseconds(400));
}

}  // namespace
}  // namespace tp::bench
