#include "daemon/dns_answerer.h"

#include <algorithm>

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using dns::Message;
using dns::Rcode;

constexpr uint8_t kOpcodeQuery = 0;

bool IsShortName(const dns::DnsName& name, int ndots) {
  const int dots = name.labels.empty() ? 0 : static_cast<int>(name.labels.size()) - 1;
  return !name.labels.empty() && dots < ndots;
}

// `query` asking for `expanded` instead, with only the EDNS record kept from its extra
// sections.
Message ExpandedQuery(const Message& query, const dns::DnsName& expanded) {
  Message expanded_query;
  expanded_query.header = query.header;
  expanded_query.questions = {query.questions[0]};
  expanded_query.questions[0].name = expanded;
  for (const dns::Record& record : query.additionals) {
    if (record.type == dns::kTypeOpt) expanded_query.additionals.push_back(record);
  }
  return expanded_query;
}

void RenameOwners(std::vector<dns::Record>& records, const dns::DnsName& from,
                  const dns::DnsName& to) {
  for (dns::Record& record : records) {
    if (record.name.SameAs(from)) record.name = to;
  }
}

// `reply` (to the expanded query) as a reply to `query`: its question and the expanded name's
// records renamed back. Empty when `reply` does not parse.
std::vector<uint8_t> RenamedReply(const Message& reply, const Message& query,
                                  const dns::DnsName& expanded) {
  Message renamed = reply;
  renamed.questions = {query.questions[0]};
  const dns::DnsName& asked = query.questions[0].name;
  RenameOwners(renamed.answers, expanded, asked);
  RenameOwners(renamed.authorities, expanded, asked);
  RenameOwners(renamed.additionals, expanded, asked);
  return dns::EncodeMessage(renamed);
}

std::vector<uint8_t> FitInto(std::vector<uint8_t> reply, size_t max_bytes) {
  if (reply.size() <= max_bytes) return reply;
  const dns::ParsedMessage parsed = dns::ParseMessage(reply);
  if (!parsed.message) return {};
  return dns::MakeTruncatedReply(*parsed.message);
}

}  // namespace

DnsAnswerer::DnsAnswerer(DnsRules rules, DnsResolver& cluster, DnsResolver& upstream)
    : rules_(std::move(rules)), cluster_(cluster), upstream_(upstream) {}

DnsReply DnsAnswerer::Answer(std::span<const uint8_t> query_bytes, Clock::time_point deadline,
                             size_t max_reply_bytes) const {
  const std::optional<dns::Header> header = dns::ParseHeader(query_bytes);
  if (!header || header->IsResponse()) return {};
  const dns::ParsedMessage parsed = dns::ParseMessage(query_bytes);
  if (!parsed.message || header->question_count != 1) {
    return {dns::MakeHeaderOnlyReply(*header, Rcode::kFormErr), DnsRoute::kLocal};
  }
  const Message& query = *parsed.message;
  if (header->Opcode() != kOpcodeQuery) {
    return {dns::EncodeMessage(dns::MakeReply(query, Rcode::kNotImp)), DnsRoute::kLocal};
  }
  DnsReply reply = Route(query, query_bytes, deadline);
  if (reply.bytes.empty()) {
    reply = {dns::EncodeMessage(dns::MakeReply(query, Rcode::kServFail)), DnsRoute::kDeadline};
  }
  const size_t limit = max_reply_bytes != 0 ? max_reply_bytes : dns::MaxUdpReplySize(query);
  reply.bytes = FitInto(std::move(reply.bytes), limit);
  return reply;
}

DnsReply DnsAnswerer::Route(const Message& query, std::span<const uint8_t> query_bytes,
                            Clock::time_point deadline) const {
  const dns::DnsName& name = query.questions[0].name;
  if (!rules_.cluster_domain.labels.empty() && name.EndsWith(rules_.cluster_domain)) {
    if (auto reply = Ask(cluster_, query_bytes, deadline)) {
      return {std::move(*reply), DnsRoute::kCluster};
    }
    return {};
  }
  if (!rules_.docker_search_domain.labels.empty() &&
      name.labels.size() > rules_.docker_search_domain.labels.size() &&
      name.EndsWith(rules_.docker_search_domain)) {
    return AnswerDockerSearch(query, deadline);
  }
  if (IsShortName(name, rules_.ndots)) {
    if (auto reply = AskWithSearchDomains(query, name, false, deadline)) return std::move(*reply);
  }
  if (auto reply = Ask(upstream_, query_bytes, deadline)) {
    return {std::move(*reply), DnsRoute::kUpstream};
  }
  return {};
}

DnsReply DnsAnswerer::AnswerDockerSearch(const Message& query, Clock::time_point deadline) const {
  const dns::DnsName& name = query.questions[0].name;
  dns::DnsName base = name;
  base.labels.resize(name.labels.size() - rules_.docker_search_domain.labels.size());
  const bool full = !rules_.cluster_domain.labels.empty() && base.EndsWith(rules_.cluster_domain);
  if (auto reply = AskWithSearchDomains(query, base, full, deadline)) return std::move(*reply);
  return {dns::EncodeMessage(dns::MakeReply(query, Rcode::kNxDomain)), DnsRoute::kLocal};
}

std::optional<DnsReply> DnsAnswerer::AskWithSearchDomains(const Message& query,
                                                          const dns::DnsName& base, bool exact,
                                                          Clock::time_point deadline) const {
  std::vector<dns::DnsName> candidates;
  if (exact) {
    candidates.push_back(base);
  } else {
    for (const dns::DnsName& domain : rules_.search_domains) {
      dns::DnsName expanded = base.Append(domain);
      if (expanded.WireLength() <= dns::kMaxNameWireLength)
        candidates.push_back(std::move(expanded));
    }
  }
  // Each candidate but the last gets half the time left, the last all of it: a search domain
  // whose server stays silent (a resolver that forwards unknown names to an upstream it cannot
  // reach) costs part of the deadline, not all of it, and the next one still gets asked; the
  // first, the likeliest, gets the most.
  for (size_t index = 0; index < candidates.size(); ++index) {
    const dns::DnsName& expanded = candidates[index];
    const bool last = index + 1 == candidates.size();
    const auto share = (deadline - Clock::now()) / (last ? 1 : 2);
    const std::vector<uint8_t> expanded_bytes = dns::EncodeMessage(ExpandedQuery(query, expanded));
    const auto reply_bytes = Ask(cluster_, expanded_bytes, Clock::now() + share);
    if (!reply_bytes) continue;
    const dns::ParsedMessage reply = dns::ParseMessage(*reply_bytes);
    if (!reply.message || reply.message->header.rcode() != Rcode::kNoError) continue;
    std::vector<uint8_t> renamed = RenamedReply(*reply.message, query, expanded);
    if (!renamed.empty()) return DnsReply{std::move(renamed), DnsRoute::kClusterSearch};
  }
  return std::nullopt;
}

std::optional<std::vector<uint8_t>> DnsAnswerer::Ask(DnsResolver& resolver,
                                                     std::span<const uint8_t> query_bytes,
                                                     Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left <= std::chrono::milliseconds::zero()) return std::nullopt;
  auto reply = resolver.Resolve(query_bytes, left);
  if (!reply) return std::nullopt;
  const std::optional<dns::Header> header = dns::ParseHeader(*reply);
  const std::optional<dns::Header> asked = dns::ParseHeader(query_bytes);
  if (!header || !asked || !header->IsResponse() || header->id != asked->id) return std::nullopt;
  return reply;
}

}  // namespace tp::daemon
