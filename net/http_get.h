// HttpGet: one HTTP/1.1 GET over plain TCP, `Connection: close`, with a deadline on everything
// (resolution, connection, the whole answer) and a cap on the answer's size. For small JSON
// status documents on a trusted link (teleroute polling the daemon's control API); bodies are
// framed by Content-Length or by the end of the connection, never chunked.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace tp {

struct HttpGetResult {
  int status = 0;     // 0 when there was no (valid) answer: see `error`
  std::string body;   // the body of the answer
  std::string error;  // "" when an answer came, else a sentence naming the address
};

HttpGetResult HttpGet(const std::string& host, uint16_t port, const std::string& path,
                      std::chrono::milliseconds timeout, size_t max_body_bytes = 1 << 20);

}  // namespace tp
