#include "dns/nameserver_query.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <thread>

#include "dns/dns_message.h"
#include "net/unique_fd.h"

namespace tp::dns {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A UDP socket on 127.0.0.1 with a free port, standing in for a name server.
struct UdpServer {
  UniqueFd socket{::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)};
  SocketAddress address;

  UdpServer() {
    address = *ParseSocketAddress("127.0.0.1", 0);
    EXPECT_EQ(::bind(socket.Get(), address.get(), address.length), 0);
    address.length = sizeof address.storage;
    ::getsockname(socket.Get(), reinterpret_cast<sockaddr*>(&address.storage), &address.length);
  }

  // Receives one datagram and answers it with each of `replies` in turn.
  void AnswerOnce(const std::vector<std::vector<uint8_t>>& replies) {
    std::vector<uint8_t> query(512);
    sockaddr_storage client{};
    socklen_t length = sizeof client;
    if (::recvfrom(socket.Get(), query.data(), query.size(), 0,
                   reinterpret_cast<sockaddr*>(&client), &length) < 0) {
      return;
    }
    for (const auto& reply : replies) {
      ::sendto(socket.Get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&client),
               length);
    }
  }
};

std::vector<uint8_t> Header(uint8_t id_high, uint8_t id_low) {
  std::vector<uint8_t> message(kHeaderSize, 0);
  message[0] = id_high;
  message[1] = id_low;
  return message;
}

TEST(AskNameserverTest, SkipsDatagramsOfAnotherIdAndReturnsTheAnswer) {
  UdpServer server;
  const std::vector<uint8_t> query = Header(0x12, 0x34);
  std::vector<uint8_t> answer = Header(0x12, 0x34);
  answer[2] = 0x80;  // QR: a response
  std::thread serve([&] { server.AnswerOnce({Header(0x99, 0x99), {0x12}, answer}); });
  const auto reply = AskNameserver(server.address, query, Clock::now() + 2s);
  serve.join();
  ASSERT_TRUE(reply);
  EXPECT_EQ(*reply, answer);
}

TEST(AskNameserverTest, GivesUpAtTheDeadlineWhenNobodyAnswers) {
  UdpServer silent;
  const auto start = Clock::now();
  EXPECT_FALSE(AskNameserver(silent.address, Header(1, 2), start + 300ms));
  EXPECT_GE(Clock::now() - start, 300ms);
  EXPECT_LT(Clock::now() - start, 2s);
}

TEST(AskNameserverTest, RefusesAQueryShorterThanAHeader) {
  UdpServer server;
  const std::vector<uint8_t> short_query{1, 2, 3};
  EXPECT_FALSE(AskNameserver(server.address, short_query, Clock::now() + 2s));
}

}  // namespace
}  // namespace tp::dns
