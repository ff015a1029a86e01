#include "net/http_get.h"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <string>
#include <thread>

#include "net/tcp_socket.h"

namespace tp {
namespace {

using namespace std::chrono_literals;

// A server on loopback that answers its first connection with `answer` once the request's head
// arrived, then closes (or, with `hold`, keeps the connection open without answering).
class CannedServer {
 public:
  explicit CannedServer(std::string answer, bool hold = false) {
    std::string error;
    listener_ = ListenTcp("127.0.0.1:0", error);
    EXPECT_TRUE(listener_.socket.Valid()) << error;
    thread_ = std::thread([this, answer = std::move(answer), hold] {
      pollfd waiter{listener_.socket.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 5000) != 1) return;
      UniqueFd connection(::accept(listener_.socket.Get(), nullptr, nullptr));
      std::string request;
      char buffer[4096];
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(connection.Get(), buffer, sizeof buffer, 0);
        if (n <= 0) return;
        request.append(buffer, static_cast<size_t>(n));
      }
      request_ = request;
      if (hold) {
        std::this_thread::sleep_for(1500ms);
        return;
      }
      ::send(connection.Get(), answer.data(), answer.size(), MSG_NOSIGNAL);
    });
  }
  ~CannedServer() { thread_.join(); }
  uint16_t port() const { return static_cast<uint16_t>(listener_.bound_port); }
  const std::string& request() const { return request_; }

 private:
  TcpListener listener_;
  std::string request_;
  std::thread thread_;
};

TEST(HttpGetTest, ReadsABodyFramedByContentLength) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n{\"a\": 1}\nIGNORED");
  const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/status", 3s);
  EXPECT_EQ(result.error, "");
  EXPECT_EQ(result.status, 200);
  EXPECT_EQ(result.body, "{\"a\": 1}\n");
  EXPECT_EQ(server.request().substr(0, 20), "GET /status HTTP/1.1");
  EXPECT_NE(server.request().find("\r\nConnection: close\r\n"), std::string::npos);
}

TEST(HttpGetTest, ReadsABodyEndedByTheConnection) {
  CannedServer server("HTTP/1.0 503 Busy\r\n\r\nlater");
  const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 3s);
  EXPECT_EQ(result.status, 503);
  EXPECT_EQ(result.body, "later");
}

TEST(HttpGetTest, RefusesWhatItCannotOrShouldNotRead) {
  {
    CannedServer server(
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
    const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 3s);
    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.error.find("chunked"), std::string::npos) << result.error;
  }
  {
    CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'x'));
    const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 3s, 50);
    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.error.find("more than 50 bytes"), std::string::npos) << result.error;
  }
  {
    CannedServer server("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 3s);
    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.error.find("malformed HTTP head"), std::string::npos) << result.error;
  }
  {
    CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort");
    const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 3s);
    EXPECT_EQ(result.status, 0);
    EXPECT_NE(result.error.find("before the whole answer"), std::string::npos) << result.error;
  }
}

TEST(HttpGetTest, AServerThatDoesNotAnswerTimesOut) {
  CannedServer server("", /*hold=*/true);
  const auto start = std::chrono::steady_clock::now();
  const HttpGetResult result = HttpGet("127.0.0.1", server.port(), "/", 300ms);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 1s);
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.error.find("did not answer within 300 ms"), std::string::npos) << result.error;
}

TEST(HttpGetTest, NobodyListeningIsAnError) {
  uint16_t port;
  {
    std::string error;
    TcpListener closed = ListenTcp("127.0.0.1:0", error);
    port = static_cast<uint16_t>(closed.bound_port);
  }
  const HttpGetResult result = HttpGet("127.0.0.1", port, "/", 1s);
  EXPECT_EQ(result.status, 0);
  EXPECT_FALSE(result.error.empty());
}

}  // namespace
}  // namespace tp
