#include "net/http_get.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/host_port.h"
#include "net/http_head.h"
#include "net/socket_wait.h"
#include "net/tcp_socket.h"

namespace tp {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

HttpGetResult HttpGet(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout, size_t max_body_bytes) {
  HttpGetResult result;
  const std::string where = HostPortText(HostPort{host, port});
  const auto deadline = Clock::now() + timeout;
  DialResult dial = DialTcp(host, port, deadline);
  if (!dial.socket.Valid()) {
    result.error = dial.message;
    return result;
  }
  const int fd = dial.socket.Get();
  const std::string request =
      "GET " + path + " HTTP/1.1\r\nHost: " + where + "\r\nConnection: close\r\n\r\n";
  if (!SendAllBefore(fd, request, deadline)) {
    result.error = "cannot send the request to " + where;
    return result;
  }
  std::string received;
  HttpHead head;
  bool have_head = false;
  char buffer[16 * 1024];
  while (true) {
    if (have_head && head.content_length && received.size() - head.size >= *head.content_length) {
      break;
    }
    if (WaitForSocket(fd, POLLIN, deadline) != SocketWait::kReady) {
      result.error = where + " did not answer within " + std::to_string(timeout.count()) + " ms";
      return result;
    }
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n < 0) {
      result.error = "cannot read the answer of " + where + ": " + std::strerror(errno);
      return result;
    }
    if (n == 0) {
      if (have_head && !head.content_length) break;  // the end of the connection ends the body
      result.error = where + " closed the connection before the whole answer";
      return result;
    }
    received.append(buffer, static_cast<size_t>(n));
    if (!have_head) {
      std::string problem;
      const HttpHeadState state = ParseHttpResponseHead(received, &head, &problem);
      if (state == HttpHeadState::kMalformed) {
        result.error = where + " answered a malformed HTTP head: " + problem;
        return result;
      }
      have_head = state == HttpHeadState::kComplete;
      if (have_head && head.chunked) {
        result.error = where + " answered with a chunked body, which this client does not read";
        return result;
      }
    }
    if (have_head && (received.size() - head.size > max_body_bytes ||
                      head.content_length.value_or(0) > max_body_bytes)) {
      result.error = where + " answered more than " + std::to_string(max_body_bytes) + " bytes";
      return result;
    }
  }
  result.status = head.status;
  result.body = received.substr(head.size, head.content_length.value_or(std::string::npos));
  return result;
}

}  // namespace tp
