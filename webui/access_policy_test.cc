#include "webui/access_policy.h"

#include <gtest/gtest.h>

namespace tp::webui {
namespace {

constexpr uint16_t kPort = 7670;
const std::string kToken = "0123456789abcdef0123456789abcdef";

RequestFacts SignedInGet(std::string path) {
  return RequestFacts{.method = "GET",
                      .path = std::move(path),
                      .host = "127.0.0.1:7670",
                      .origin = std::nullopt,
                      .cookie = "theme=dark; tp_ui=" + kToken,
                      .query_token = std::nullopt,
                      .content_type = std::nullopt};
}

RequestFacts SignedInPost(std::string path) {
  RequestFacts facts = SignedInGet(std::move(path));
  facts.method = "POST";
  facts.origin = "http://127.0.0.1:7670";
  facts.content_type = "application/json";
  return facts;
}

TEST(AccessPolicy, SignedInRequestsFromThePageAreAllowed) {
  AccessPolicy policy(kPort, kToken);
  EXPECT_EQ(policy.Check(SignedInGet("/api/status")), Access::kAllow);
  EXPECT_EQ(policy.Check(SignedInPost("/api/connect")), Access::kAllow);
  RequestFacts by_name = SignedInPost("/api/connect");
  by_name.host = "localhost:7670";
  by_name.origin = "http://localhost:7670";
  by_name.content_type = "Application/JSON; charset=utf-8";
  EXPECT_EQ(policy.Check(by_name), Access::kAllow);
}

TEST(AccessPolicy, TheTokenInTheAddressSetsTheCookieOnlyWhenRight) {
  AccessPolicy policy(kPort, kToken);
  RequestFacts first = SignedInGet("/");
  first.cookie = std::nullopt;
  first.query_token = kToken;
  EXPECT_EQ(policy.Check(first), Access::kSetCookie);
  EXPECT_EQ(policy.SessionCookieHeader(),
            "tp_ui=" + kToken + "; HttpOnly; SameSite=Strict; Path=/");
  first.query_token = "0123456789abcdef0123456789abcdee";
  EXPECT_EQ(policy.Check(first), Access::kNoSecret);
  first.query_token = "";
  EXPECT_EQ(policy.Check(first), Access::kNoSecret);
}

TEST(AccessPolicy, NoCookieOrAWrongOneIsNotSignedIn) {
  AccessPolicy policy(kPort, kToken);
  RequestFacts request = SignedInGet("/api/status");
  request.cookie = std::nullopt;
  EXPECT_EQ(policy.Check(request), Access::kNoSecret);
  request.cookie = "tp_ui=" + kToken.substr(1);
  EXPECT_EQ(policy.Check(request), Access::kNoSecret);
  request.cookie = "xtp_ui=" + kToken;
  EXPECT_EQ(policy.Check(request), Access::kNoSecret);
  // The token in the address counts only for the page itself, never for the API.
  request.cookie = std::nullopt;
  request.query_token = kToken;
  EXPECT_EQ(policy.Check(request), Access::kNoSecret);
}

TEST(AccessPolicy, AForeignHostIsRefusedEvenWithTheSecret) {
  AccessPolicy policy(kPort, kToken);
  for (const char* host : {"evil.example:7670", "127.0.0.1:7671", "127.0.0.1", "localhost",
                           "127.0.0.1:7670.evil.example", "0.0.0.0:7670", ""}) {
    RequestFacts request = SignedInGet("/api/status");
    request.host = host;
    EXPECT_EQ(policy.Check(request), Access::kForeignHost) << host;
  }
  RequestFacts no_host = SignedInGet("/api/status");
  no_host.host = std::nullopt;
  EXPECT_EQ(policy.Check(no_host), Access::kForeignHost);
}

TEST(AccessPolicy, AForeignOriginCannotChangeAnything) {
  AccessPolicy policy(kPort, kToken);
  for (const char* origin : {"http://evil.example", "https://127.0.0.1:7670",
                             "http://127.0.0.1:7671", "null", "http://localhost:7670.evil"}) {
    RequestFacts request = SignedInPost("/api/connect");
    request.origin = origin;
    EXPECT_EQ(policy.Check(request), Access::kForeignOrigin) << origin;
  }
  RequestFacts deleted = SignedInPost("/api/engagements/e-1");
  deleted.method = "DELETE";
  deleted.origin = "http://evil.example";
  EXPECT_EQ(policy.Check(deleted), Access::kForeignOrigin);
}

TEST(AccessPolicy, AStateChangeMustBeJson) {
  AccessPolicy policy(kPort, kToken);
  RequestFacts form = SignedInPost("/api/connect");
  form.content_type = "application/x-www-form-urlencoded";
  EXPECT_EQ(policy.Check(form), Access::kNotJson);
  form.content_type = "text/plain";
  EXPECT_EQ(policy.Check(form), Access::kNotJson);
  form.content_type = std::nullopt;
  EXPECT_EQ(policy.Check(form), Access::kNotJson);
  RequestFacts leave = SignedInPost("/api/engagements/e-1");
  leave.method = "DELETE";
  leave.content_type = std::nullopt;
  EXPECT_EQ(policy.Check(leave), Access::kAllow);
}

TEST(AccessPolicy, RefusalsHaveTheirStatusAndAReason) {
  EXPECT_EQ(AccessPolicy::HttpStatus(Access::kForeignHost), 403);
  EXPECT_EQ(AccessPolicy::HttpStatus(Access::kForeignOrigin), 403);
  EXPECT_EQ(AccessPolicy::HttpStatus(Access::kNoSecret), 401);
  EXPECT_EQ(AccessPolicy::HttpStatus(Access::kNotJson), 415);
  EXPECT_NE(AccessPolicy::Explain(Access::kNoSecret).find("telepresence ui"), std::string::npos);
}

TEST(CookieValue, FindsTheNamedCookieAmongOthers) {
  EXPECT_EQ(CookieValue("a=1; tp_ui=xyz; b=2", "tp_ui"), "xyz");
  EXPECT_EQ(CookieValue("tp_ui=xyz", "tp_ui"), "xyz");
  EXPECT_EQ(CookieValue("a=1;b", "tp_ui"), std::nullopt);
  EXPECT_EQ(CookieValue("", "tp_ui"), std::nullopt);
}

}  // namespace
}  // namespace tp::webui
