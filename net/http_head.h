// The head of an HTTP/1.1 message (request line or status line, then headers), parsed from the
// bytes received so far: what the Docker plugin socket (common/plugin_server.h) and the status
// poll of teleroute (net/http_get.h) need, and no more. Bodies are framed by Content-Length only:
// a head that asks for chunked transfer coding is answered as unsupported by its caller. Pure
// functions over bytes, libc++ only.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tp {

// The longest head accepted; longer ones are malformed (a peer cannot make us buffer more).
inline constexpr size_t kMaxHttpHeadBytes = 16 * 1024;

struct HttpHead {
  // Requests: the method and the target ("POST", "/VolumeDriver.Mount").
  std::string method;
  std::string target;
  // Responses: the status code.
  int status = 0;
  int minor_version = 1;                 // HTTP/1.<minor>
  std::optional<size_t> content_length;  // absent: no Content-Length header
  bool chunked = false;                  // Transfer-Encoding names a coding other than identity
  bool close = false;                    // Connection: close, or HTTP/1.0 without keep-alive
  size_t size = 0;                       // bytes of the head, the blank line included
};

enum class HttpHeadState { kIncomplete, kComplete, kMalformed };

// Parses the head at the start of `bytes`. kIncomplete: more bytes are needed (and fewer than
// kMaxHttpHeadBytes arrived); kComplete: *head is filled; kMalformed: *error says why.
HttpHeadState ParseHttpRequestHead(std::string_view bytes, HttpHead* head, std::string* error);
HttpHeadState ParseHttpResponseHead(std::string_view bytes, HttpHead* head, std::string* error);

}  // namespace tp
