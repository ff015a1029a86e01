// libFuzzer target: the HTTP/1.1 head parser (net/http_head.h) that reads what any local process
// sends to a Docker plugin's socket, and what the daemon's control API answers teleroute. Checks
// that a complete head ends in its blank line inside the input and within the size cap, that an
// incomplete one is under the cap, and that a request's target starts with "/".
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "net/http_head.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckHead(std::string_view input, tp::HttpHeadState state, const tp::HttpHead& head) {
  if (state == tp::HttpHeadState::kIncomplete) Check(input.size() < tp::kMaxHttpHeadBytes);
  if (state != tp::HttpHeadState::kComplete) return;
  Check(head.size >= 4 && head.size <= input.size() && head.size <= tp::kMaxHttpHeadBytes);
  Check(input.substr(head.size - 4, 4) == "\r\n\r\n");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  tp::HttpHead head;
  std::string error;
  const tp::HttpHeadState request = tp::ParseHttpRequestHead(input, &head, &error);
  CheckHead(input, request, head);
  if (request == tp::HttpHeadState::kComplete) {
    Check(!head.method.empty() && !head.target.empty() && head.target[0] == '/');
  }
  if (request == tp::HttpHeadState::kMalformed) Check(!error.empty());
  error.clear();
  const tp::HttpHeadState response = tp::ParseHttpResponseHead(input, &head, &error);
  CheckHead(input, response, head);
  if (response == tp::HttpHeadState::kComplete) Check(head.status >= 0 && head.status <= 999);
  if (response == tp::HttpHeadState::kMalformed) Check(!error.empty());
  return 0;
}
