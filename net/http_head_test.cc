#include "net/http_head.h"

#include <gtest/gtest.h>

#include <string>

namespace tp {
namespace {

HttpHeadState Request(const std::string& text, HttpHead* head, std::string* error = nullptr) {
  std::string ignored;
  return ParseHttpRequestHead(text, head, error ? error : &ignored);
}

TEST(HttpHeadTest, ParsesARequestAsDockerdSendsIt) {
  HttpHead head;
  const std::string text =
      "POST /VolumeDriver.Mount HTTP/1.1\r\nHost: plugin\r\nUser-Agent: Go-http-client/1.1\r\n"
      "Content-Length: 27\r\nAccept: application/vnd.docker.plugins.v1.2+json\r\n"
      "Accept-Encoding: gzip\r\n\r\n{\"Name\":\"v\",\"ID\":\"abc\"}";
  ASSERT_EQ(Request(text, &head), HttpHeadState::kComplete);
  EXPECT_EQ(head.method, "POST");
  EXPECT_EQ(head.target, "/VolumeDriver.Mount");
  EXPECT_EQ(head.content_length, 27u);
  EXPECT_FALSE(head.close);
  EXPECT_FALSE(head.chunked);
  EXPECT_EQ(text.substr(head.size), "{\"Name\":\"v\",\"ID\":\"abc\"}");
}

TEST(HttpHeadTest, AnIncompleteHeadAsksForMoreUntilItIsTooLong) {
  HttpHead head;
  EXPECT_EQ(Request("POST /x HTTP/1.1\r\nContent-Len", &head), HttpHeadState::kIncomplete);
  std::string error;
  const std::string endless = "POST /x HTTP/1.1\r\nX: " + std::string(kMaxHttpHeadBytes, 'a');
  EXPECT_EQ(Request(endless, &head, &error), HttpHeadState::kMalformed);
  EXPECT_EQ(error, "head too long");
}

TEST(HttpHeadTest, ConnectionAndVersionDecideWhetherTheConnectionCloses) {
  HttpHead head;
  ASSERT_EQ(Request("POST /x HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", &head),
            HttpHeadState::kComplete);
  EXPECT_TRUE(head.close);
  ASSERT_EQ(Request("POST /x HTTP/1.0\r\n\r\n", &head), HttpHeadState::kComplete);
  EXPECT_TRUE(head.close);
  ASSERT_EQ(Request("POST /x HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &head),
            HttpHeadState::kComplete);
  EXPECT_FALSE(head.close);
  EXPECT_FALSE(head.content_length);
}

TEST(HttpHeadTest, ChunkedBodiesAreFlaggedForTheCallerToRefuse) {
  HttpHead head;
  ASSERT_EQ(Request("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", &head),
            HttpHeadState::kComplete);
  EXPECT_TRUE(head.chunked);
}

TEST(HttpHeadTest, MalformedHeadsSayWhy) {
  const std::pair<std::string, std::string> cases[] = {
      {"POST /x\r\n\r\n", "request line is not METHOD TARGET VERSION"},
      {"POST x HTTP/1.1\r\n\r\n", "bad request target"},
      {"POST /x HTTP/2.0\r\n\r\n", "not HTTP/1.x"},
      {"PO(ST /x HTTP/1.1\r\n\r\n", "bad method"},
      {"POST /x HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", "bad Content-Length"},
      {"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "bad Content-Length"},
      {"POST /x HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", "bad Content-Length"},
      {"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "two different Content-Length headers"},
      {"POST /x HTTP/1.1\r\nNo colon\r\n\r\n", "header without a name"},
      {"POST /x HTTP/1.1\r\nBad Name: 1\r\n\r\n",
       "header name with a space or a control character"},
  };
  for (const auto& [text, reason] : cases) {
    HttpHead head;
    std::string error;
    EXPECT_EQ(Request(text, &head, &error), HttpHeadState::kMalformed) << text;
    EXPECT_EQ(error, reason) << text;
  }
}

TEST(HttpHeadTest, ParsesStatusLines) {
  HttpHead head;
  std::string error;
  ASSERT_EQ(ParseHttpResponseHead("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!", &head,
                                  &error),
            HttpHeadState::kComplete);
  EXPECT_EQ(head.status, 404);
  EXPECT_EQ(head.content_length, 3u);
  ASSERT_EQ(ParseHttpResponseHead("HTTP/1.0 200\r\n\r\n", &head, &error), HttpHeadState::kComplete);
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.close);
  EXPECT_EQ(ParseHttpResponseHead("HTTP/1.1 2000 OK\r\n\r\n", &head, &error),
            HttpHeadState::kMalformed);
  EXPECT_EQ(ParseHttpResponseHead("SSH-2.0-OpenSSH\r\n\r\n", &head, &error),
            HttpHeadState::kMalformed);
}

}  // namespace
}  // namespace tp
