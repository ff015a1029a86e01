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
//   3. NAME ends with the Docker search domain "tel2-search" (what `docker run --dns-search
//      tel2-search` makes of a short name when the daemon runs on the host): the rest of NAME
//      ("echo", "echo.default", a full cluster name) is asked of the cluster as in 1 or 2, the
//      reply renamed back to NAME. When the cluster has no such name the client gets NXDOMAIN
//      at once: "tel2-search" is no real domain, so no upstream resolver is asked (and the
//      client's resolver moves on to the name without it).
//   4. Otherwise (and when no search domain matched), the query goes unchanged to the upstream
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

// The search domain `--docker-run` gives a handler container of a daemon on the host.
inline constexpr std::string_view kDockerSearchDomain = "tel2-search";

struct DnsRules {
  dns::DnsName cluster_domain;               // "cluster.local"
  std::vector<dns::DnsName> search_domains;  // "default.svc.cluster.local", ...
  int ndots = 5;
  dns::DnsName docker_search_domain{{std::string(kDockerSearchDomain)}};
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
  // The first NOERROR reply of the cluster to `base` + each search domain (to `base` alone when
  // `exact`), renamed back to the query's name.
  std::optional<DnsReply> AskWithSearchDomains(
      const dns::Message& query, const dns::DnsName& base, bool exact,
      std::chrono::steady_clock::time_point deadline) const;
  // Rule 3: the reply to a name under the Docker search domain (NXDOMAIN when none).
  DnsReply AnswerDockerSearch(const dns::Message& query,
                              std::chrono::steady_clock::time_point deadline) const;
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
