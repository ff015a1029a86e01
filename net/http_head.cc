#include "net/http_head.h"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace tp {
namespace {

// Bodies larger than this are never announced by a well-behaved peer of ours; the number itself
// must at least fit.
constexpr size_t kMaxContentLength = size_t{1} << 40;

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool ContainsToken(std::string_view list, std::string_view token) {
  while (!list.empty()) {
    const size_t comma = list.find(',');
    std::string_view item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (EqualsIgnoringCase(item, token)) return true;
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return false;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool ParseVersion(std::string_view text, int* minor) {
  if (text.size() != 8 || text.substr(0, 7) != "HTTP/1." ||
      !std::isdigit(static_cast<unsigned char>(text[7]))) {
    return false;
  }
  *minor = text[7] - '0';
  return true;
}

HttpHeadState Malformed(std::string* error, std::string reason) {
  *error = std::move(reason);
  return HttpHeadState::kMalformed;
}

// Splits off the head (up to the blank line) or says it is incomplete or too long.
HttpHeadState FindHead(std::string_view bytes, std::string_view* head, std::string* error) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (bytes.size() >= kMaxHttpHeadBytes) return Malformed(error, "head too long");
    return HttpHeadState::kIncomplete;
  }
  if (end + 4 > kMaxHttpHeadBytes) return Malformed(error, "head too long");
  *head = bytes.substr(0, end + 4);
  return HttpHeadState::kComplete;
}

// Parses the header lines after the first line (each ends in CRLF; the last one is empty).
HttpHeadState ParseHeaders(std::string_view lines, HttpHead* head, std::string* error) {
  bool keep_alive = false;
  while (true) {
    const size_t end = lines.find("\r\n");
    if (end == std::string_view::npos) return Malformed(error, "header line without CRLF");
    const std::string_view line = lines.substr(0, end);
    lines.remove_prefix(end + 2);
    if (line.empty()) break;
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Malformed(error, "header without a name");
    const std::string_view name = line.substr(0, colon);
    if (!std::all_of(name.begin(), name.end(), IsTokenChar)) {
      return Malformed(error, "header name with a space or a control character");
    }
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    if (std::any_of(value.begin(), value.end(),
                    [](char c) { return c == '\r' || c == '\n' || c == '\0'; })) {
      return Malformed(error, "header value with a line break or NUL");
    }
    if (EqualsIgnoringCase(name, "Content-Length")) {
      size_t length = 0;
      auto [end_of_number, problem] =
          std::from_chars(value.data(), value.data() + value.size(), length);
      if (value.empty() || problem != std::errc() || end_of_number != value.data() + value.size() ||
          length > kMaxContentLength) {
        return Malformed(error, "bad Content-Length");
      }
      if (head->content_length && *head->content_length != length) {
        return Malformed(error, "two different Content-Length headers");
      }
      head->content_length = length;
    } else if (EqualsIgnoringCase(name, "Transfer-Encoding")) {
      head->chunked = head->chunked || !EqualsIgnoringCase(value, "identity");
    } else if (EqualsIgnoringCase(name, "Connection")) {
      if (ContainsToken(value, "close")) head->close = true;
      if (ContainsToken(value, "keep-alive")) keep_alive = true;
    }
  }
  if (head->minor_version == 0 && !keep_alive) head->close = true;
  return HttpHeadState::kComplete;
}

}  // namespace

namespace {

// Finds the head, parses its first line with `first_line` (which fills *head or returns
// kMalformed with *error set), then the headers.
template <typename FirstLineParser>
HttpHeadState ParseHead(std::string_view bytes, HttpHead* head, std::string* error,
                        FirstLineParser first_line) {
  *head = HttpHead{};
  std::string_view text;
  if (HttpHeadState state = FindHead(bytes, &text, error); state != HttpHeadState::kComplete) {
    return state;
  }
  head->size = text.size();
  const size_t line_end = text.find("\r\n");
  if (HttpHeadState state = first_line(text.substr(0, line_end));
      state != HttpHeadState::kComplete) {
    return state;
  }
  return ParseHeaders(text.substr(line_end + 2), head, error);
}

}  // namespace

HttpHeadState ParseHttpRequestHead(std::string_view bytes, HttpHead* head, std::string* error) {
  return ParseHead(bytes, head, error, [&](std::string_view line) {
    const size_t first_space = line.find(' ');
    const size_t second_space =
        line.find(' ', first_space == std::string_view::npos ? 0 : first_space + 1);
    if (first_space == std::string_view::npos || second_space == std::string_view::npos) {
      return Malformed(error, "request line is not METHOD TARGET VERSION");
    }
    const std::string_view method = line.substr(0, first_space);
    const std::string_view target = line.substr(first_space + 1, second_space - first_space - 1);
    if (method.empty() || !std::all_of(method.begin(), method.end(), IsTokenChar)) {
      return Malformed(error, "bad method");
    }
    if (target.empty() || target.front() != '/' ||
        std::any_of(target.begin(), target.end(),
                    [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == 0x7f; })) {
      return Malformed(error, "bad request target");
    }
    if (!ParseVersion(line.substr(second_space + 1), &head->minor_version)) {
      return Malformed(error, "not HTTP/1.x");
    }
    head->method = std::string(method);
    head->target = std::string(target);
    return HttpHeadState::kComplete;
  });
}

HttpHeadState ParseHttpResponseHead(std::string_view bytes, HttpHead* head, std::string* error) {
  return ParseHead(bytes, head, error, [&](std::string_view line) {
    // "HTTP/1.1 200 OK": the version, a space, three digits, then a space or the end.
    if (line.size() < 12 || !ParseVersion(line.substr(0, 8), &head->minor_version) ||
        line[8] != ' ' ||
        !std::all_of(line.begin() + 9, line.begin() + 12,
                     [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) ||
        (line.size() > 12 && line[12] != ' ')) {
      return Malformed(error, "bad status line");
    }
    head->status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return HttpHeadState::kComplete;
  });
}

}  // namespace tp
