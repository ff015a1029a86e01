// DnsAnswerer decides where a DNS query goes and builds the reply the client gets. No sockets:
// it takes the query's bytes and returns the reply's bytes, so the UDP (and later TCP) front
// ends share it. Thread-safe when its resolvers are (it holds no mutable state).
//
// The rule, for a query whose one question asks for NAME:
//   1. NAME ends with the cluster domain ("echo.default.svc.cluster.local."): the query goes,
//      unchanged, to the cluster resolver, and its reply (NXDOMAIN included) is final.
//   2. Else, if NAME has fewer than `ndots` dots ("echo", "echo.default"): NAME + each search
//      domain in order ("echo.default.svc.cluster.local.", ...) is asked of the cluster
//      resolver; the first NOERROR reply wins (NOERROR without records too: the name exists).
//      The client gets that reply with the question and every record owned by the expanded name
//      renamed back to NAME, so it reads as an answer to what it asked (no CNAME to follow).
//      NXDOMAIN, SERVFAIL and silence move on to the next search domain.
//   3. Otherwise (and when no search domain matched), the query goes unchanged to the upstream
//      resolver (the daemon's own /etc/resolv.conf nameservers) and its reply is final.
// Every query has a deadline: when it passes before an answer, the client gets SERVFAIL. A
// message that is not a query (too short, or a response) is dropped; one whose question cannot
// be parsed gets FORMERR; an opcode other than QUERY gets NOTIMP.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "daemon/dns_resolver.h"
#include "dns/dns_message.h"

namespace tp::daemon {

struct DnsRules {
  dns::DnsName cluster_domain;               // "cluster.local"
  std::vector<dns::DnsName> search_domains;  // "default.svc.cluster.local", ...
  int ndots = 5;
};

// Where the reply came from, for logs and tests.
enum class DnsRoute { kDropped, kLocal, kCluster, kClusterSearch, kUpstream, kDeadline };

struct DnsReply {
  std::vector<uint8_t> bytes;  // empty when the query is dropped
  DnsRoute route = DnsRoute::kDropped;
};

class DnsAnswerer {
 public:
  // Both resolvers must outlive the answerer.
  DnsAnswerer(DnsRules rules, DnsResolver& cluster, DnsResolver& upstream);

  // The reply to `query`, built before `deadline` (SERVFAIL when the deadline passes).
  // `max_reply_bytes`: a larger reply is sent truncated (TC set, no records); for UDP, the
  // caller passes 0 and the query's own EDNS size (or 512) applies.
  DnsReply Answer(std::span<const uint8_t> query, std::chrono::steady_clock::time_point deadline,
                  size_t max_reply_bytes = 0) const;

 private:
  DnsReply Route(const dns::Message& query, std::span<const uint8_t> query_bytes,
                 std::chrono::steady_clock::time_point deadline) const;
  std::optional<DnsReply> AskWithSearchDomains(
      const dns::Message& query, std::chrono::steady_clock::time_point deadline) const;
  // The reply of `resolver` to `query_bytes` when it came before `deadline` and is a response
  // to that query (same id).
  static std::optional<std::vector<uint8_t>> Ask(DnsResolver& resolver,
                                                 std::span<const uint8_t> query_bytes,
                                                 std::chrono::steady_clock::time_point deadline);

  const DnsRules rules_;
  DnsResolver& cluster_;
  DnsResolver& upstream_;
};

}  // namespace tp::daemon
