// libFuzzer target: DNS messages as the daemon's DNS server meets them. The input is parsed as a
// message (a client's query or a resolver's reply); a message that parses must encode and parse
// back to the same value. Then the input goes through DnsAnswerer as a client's query, with
// resolvers that answer with the input itself marked as a response, so the reply paths (search
// domains, renaming, truncation) run on hostile replies too.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <vector>

// The DNS codec and answerer: if they move (say to a dns/ library), change these lines and the
// sources named in fuzz/CMakeLists.txt.
#include "daemon/dns_answerer.h"
#include "dns/dns_message.h"
namespace dns = tp::dns;
using tp::daemon::DnsAnswerer;
using tp::daemon::DnsResolver;
using tp::daemon::DnsRules;

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

// Answers every query with fixed bytes, given the query's id and the response bit.
class EchoResolver : public DnsResolver {
 public:
  explicit EchoResolver(std::span<const uint8_t> reply) : reply_(reply.begin(), reply.end()) {}

  std::optional<std::vector<uint8_t>> Resolve(std::span<const uint8_t> query,
                                              std::chrono::milliseconds) override {
    std::vector<uint8_t> reply = reply_;
    if (reply.size() >= 3 && query.size() >= 2) {
      reply[0] = query[0];
      reply[1] = query[1];
      reply[2] |= 0x80;  // QR
    }
    return reply;
  }

 private:
  std::vector<uint8_t> reply_;
};

void CheckRoundTrip(const dns::Message& message) {
  const std::vector<uint8_t> encoded = dns::EncodeMessage(message);
  Check(!encoded.empty());  // every parsed name and RDATA is within the limits
  const dns::ParsedMessage again = dns::ParseMessage(encoded);
  Check(again.message.has_value() && *again.message == message);
}

void UseParsedMessage(const dns::Message& message) {
  CheckRoundTrip(message);
  static_cast<void>(dns::MaxUdpReplySize(message));
  static_cast<void>(dns::EncodeMessage(dns::MakeReply(message, dns::Rcode::kNoError)));
  static_cast<void>(dns::MakeTruncatedReply(message));
  for (const dns::Question& question : message.questions) {
    const std::optional<dns::DnsName> from_text = dns::DnsName::FromText(question.name.ToText());
    if (from_text) static_cast<void>(from_text->SameAs(question.name));
  }
}

DnsRules ClusterRules() {
  DnsRules rules;
  rules.cluster_domain = *dns::DnsName::FromText("cluster.local");
  rules.search_domains = {*dns::DnsName::FromText("default.svc.cluster.local"),
                          *dns::DnsName::FromText("svc.cluster.local")};
  rules.ndots = 5;
  return rules;
}

void AnswerAsTheDaemonDoes(std::span<const uint8_t> input) {
  std::vector<uint8_t> query(input.begin(), input.end());
  if (query.size() >= 3) query[2] &= 0x7f;  // a query, so the answerer does not drop it
  EchoResolver cluster(input);
  EchoResolver upstream(input);
  const DnsAnswerer answerer(ClusterRules(), cluster, upstream);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
  const tp::daemon::DnsReply reply = answerer.Answer(query, deadline);
  if (!reply.bytes.empty()) Check(dns::ParseHeader(reply.bytes).has_value());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  const dns::ParsedMessage parsed = dns::ParseMessage(input);
  if (parsed.message) {
    UseParsedMessage(*parsed.message);
  } else {
    static_cast<void>(dns::ParseErrorName(parsed.error));
  }
  AnswerAsTheDaemonDoes(input);
  return 0;
}
