#include "teleroute/bridge_forwarding.h"

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <net/if.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace tp::teleroute {
namespace {

// How long a request may wait for the kernel's answer before it counts as failed.
constexpr timeval kReplyTimeout{5, 0};
// Room for any one message of a dump (libmnl's MNL_SOCKET_DUMP_SIZE).
constexpr size_t kReceiveBufferSize = 32768;
// Room for any one request this file builds (a rule is a few hundred bytes).
constexpr size_t kMaxRequestSize = 4096;
// Dumps interrupted by a concurrent ruleset change are retried this many times.
constexpr int kDumpAttempts = 3;

struct MnlSocketCloser {
  void operator()(mnl_socket* socket) const { mnl_socket_close(socket); }
};
struct RuleFreer {
  void operator()(nftnl_rule* rule) const { nftnl_rule_free(rule); }
};
struct ChainFreer {
  void operator()(nftnl_chain* chain) const { nftnl_chain_free(chain); }
};
struct ExpressionFreer {
  void operator()(nftnl_expr* expression) const { nftnl_expr_free(expression); }
};
struct UserdataFreer {
  void operator()(nftnl_udata_buf* userdata) const { nftnl_udata_buf_free(userdata); }
};
using RulePtr = std::unique_ptr<nftnl_rule, RuleFreer>;
using ChainPtr = std::unique_ptr<nftnl_chain, ChainFreer>;
using ExpressionPtr = std::unique_ptr<nftnl_expr, ExpressionFreer>;
using UserdataPtr = std::unique_ptr<nftnl_udata_buf, UserdataFreer>;

template <typename T>
T NonNull(T object) {
  if (!object) throw std::bad_alloc();
  return object;
}

std::string Tag(const std::string& bridge) { return "teleroute " + bridge; }

std::string Describe(int error) {
  if (error == EAGAIN || error == EWOULDBLOCK) return "no answer from the kernel";
  if (error == EPERM) return "operation not permitted (CAP_NET_ADMIN is needed)";
  return std::strerror(error);
}

// A netfilter netlink socket bound in the calling thread's network namespace. Requests and
// replies are matched by sequence number; every wait for a reply ends within kReplyTimeout.
class NftSocket {
 public:
  NftSocket() : socket_(mnl_socket_open(NETLINK_NETFILTER)) {
    if (!socket_) Fail("cannot open a netfilter netlink socket");
    if (mnl_socket_bind(socket_.get(), 0, MNL_SOCKET_AUTOPID) < 0) {
      Fail("cannot bind a netfilter netlink socket");
    }
    ::setsockopt(mnl_socket_get_fd(socket_.get()), SOL_SOCKET, SO_RCVTIMEO, &kReplyTimeout,
                 sizeof(kReplyTimeout));
    port_id_ = mnl_socket_get_portid(socket_.get());
  }

  uint32_t NextSequence() { return ++sequence_; }

  // Sends `length` bytes of requests. Returns 0 or the errno.
  int Send(const void* requests, size_t length) {
    return mnl_socket_sendto(socket_.get(), requests, length) < 0 ? errno : 0;
  }

  // Passes the replies to request `sequence` to `callback` until the kernel ends the answer (an
  // ack or the end of a dump). Returns 0 or the errno (the kernel's error included).
  int ReceiveReplies(uint32_t sequence, mnl_cb_t callback, void* data) {
    for (;;) {
      const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
      if (received < 0) return errno;
      const int result = mnl_cb_run(buffer_.data(), received, sequence, port_id_, callback, data);
      if (result < 0) return errno;
      if (result == MNL_CB_STOP) return 0;
    }
  }

  // Waits for the acks of `count` acked requests of a batch. Returns 0 when all succeeded, else
  // the first error (the kernel then applied none of the batch).
  int ReceiveAcks(size_t count) {
    while (count > 0) {
      const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
      if (received < 0) return errno;
      int left = static_cast<int>(received);
      for (auto* reply = reinterpret_cast<nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(reply, left);
           reply = mnl_nlmsg_next(reply, &left)) {
        if (reply->nlmsg_type != NLMSG_ERROR) continue;
        const auto* ack = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
        if (ack->error != 0) return -ack->error;
        if (--count == 0) break;
      }
    }
    return 0;
  }

 private:
  [[noreturn]] static void Fail(const std::string& what) {
    throw std::runtime_error(what + ": " + Describe(errno));
  }

  std::unique_ptr<mnl_socket, MnlSocketCloser> socket_;
  uint32_t port_id_ = 0;
  uint32_t sequence_ = 0;
  std::vector<char> buffer_ = std::vector<char>(kReceiveBufferSize);
};

// Requests sent as one nftables transaction (NFNL_MSG_BATCH_BEGIN ... END): the kernel applies
// all of them or none. Each request asks for an ack, which Commit checks.
class Transaction {
 public:
  explicit Transaction(NftSocket& socket) : socket_(socket) {
    Append([&](char* at) { return nftnl_batch_begin(at, socket_.NextSequence()); });
  }

  // Inserts `rule` at the top of its chain (NLM_F_CREATE without NLM_F_APPEND, as `nft insert`).
  void InsertRule(nftnl_rule& rule) {
    Append([&](char* at) {
      nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_NEWRULE, NFPROTO_IPV4,
                                                NLM_F_CREATE | NLM_F_ACK, socket_.NextSequence());
      nftnl_rule_nlmsg_build_payload(request, &rule);
      return request;
    });
    ++acked_;
  }

  void DeleteRule(const std::string& table, const std::string& chain, uint64_t handle) {
    RulePtr rule(NonNull(nftnl_rule_alloc()));
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
    nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
    nftnl_rule_set_u64(rule.get(), NFTNL_RULE_HANDLE, handle);
    Append([&](char* at) {
      nlmsghdr* request = nftnl_nlmsg_build_hdr(at, NFT_MSG_DELRULE, NFPROTO_IPV4, NLM_F_ACK,
                                                socket_.NextSequence());
      nftnl_rule_nlmsg_build_payload(request, rule.get());
      return request;
    });
    ++acked_;
  }

  // Sends the batch and checks the kernel's acks. Returns 0 or the first errno.
  int Commit() {
    Append([&](char* at) { return nftnl_batch_end(at, socket_.NextSequence()); });
    if (const int error = socket_.Send(bytes_.data(), bytes_.size())) return error;
    return socket_.ReceiveAcks(acked_);
  }

 private:
  // Appends the message `build` writes at the address it is given (at most kMaxRequestSize).
  template <typename Build>
  void Append(Build build) {
    const size_t offset = bytes_.size();
    bytes_.resize(offset + kMaxRequestSize);
    const nlmsghdr* request = build(bytes_.data() + offset);
    bytes_.resize(offset + NLMSG_ALIGN(request->nlmsg_len));
  }

  NftSocket& socket_;
  std::vector<char> bytes_;
  size_t acked_ = 0;
};

// `meta load iifname|oifname => reg 1; cmp eq reg 1 "NAME"`, the name zero-padded to IFNAMSIZ
// as nft encodes `iifname "NAME"`.
void AddInterfaceMatch(nftnl_rule& rule, uint32_t meta_key, const std::string& name) {
  ExpressionPtr load(NonNull(nftnl_expr_alloc("meta")));
  nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_KEY, meta_key);
  nftnl_expr_set_u32(load.get(), NFTNL_EXPR_META_DREG, NFT_REG_1);
  nftnl_rule_add_expr(&rule, load.release());

  char padded[IFNAMSIZ] = {};
  name.copy(padded, IFNAMSIZ - 1);
  ExpressionPtr compare(NonNull(nftnl_expr_alloc("cmp")));
  nftnl_expr_set_u32(compare.get(), NFTNL_EXPR_CMP_SREG, NFT_REG_1);
  nftnl_expr_set_u32(compare.get(), NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
  nftnl_expr_set(compare.get(), NFTNL_EXPR_CMP_DATA, padded, sizeof(padded));
  nftnl_rule_add_expr(&rule, compare.release());
}

void AddCounterAndAccept(nftnl_rule& rule) {
  nftnl_rule_add_expr(&rule, NonNull(nftnl_expr_alloc("counter")));
  ExpressionPtr accept(NonNull(nftnl_expr_alloc("immediate")));
  nftnl_expr_set_u32(accept.get(), NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
  nftnl_expr_set_u32(accept.get(), NFTNL_EXPR_IMM_VERDICT, NF_ACCEPT);
  nftnl_rule_add_expr(&rule, accept.release());
}

// The comment as nft stores it: a NUL-terminated NFTNL_UDATA_RULE_COMMENT in the userdata.
void SetComment(nftnl_rule& rule, const std::string& comment) {
  UserdataPtr userdata(NonNull(nftnl_udata_buf_alloc(NFT_USERDATA_MAXLEN)));
  if (!nftnl_udata_put_strz(userdata.get(), NFTNL_UDATA_RULE_COMMENT, comment.c_str())) {
    throw std::runtime_error("rule comment too long: " + comment);
  }
  nftnl_rule_set_data(&rule, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(userdata.get()),
                      nftnl_udata_buf_len(userdata.get()));
}

// iifname "BRIDGE" oifname "BRIDGE" counter accept comment "teleroute BRIDGE"
RulePtr BridgeRule(const std::string& table, const std::string& chain, const std::string& bridge) {
  if (bridge.empty() || bridge.size() >= IFNAMSIZ) {
    throw std::runtime_error("not an interface name: '" + bridge + "'");
  }
  RulePtr rule(NonNull(nftnl_rule_alloc()));
  nftnl_rule_set_u32(rule.get(), NFTNL_RULE_FAMILY, NFPROTO_IPV4);
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(rule.get(), NFTNL_RULE_CHAIN, chain.c_str());
  AddInterfaceMatch(*rule, NFT_META_IIFNAME, bridge);
  AddInterfaceMatch(*rule, NFT_META_OIFNAME, bridge);
  AddCounterAndAccept(*rule);
  SetComment(*rule, Tag(bridge));
  return rule;
}

int CopyComment(const nftnl_udata* attribute, void* data) {
  if (nftnl_udata_type(attribute) != NFTNL_UDATA_RULE_COMMENT) return 0;
  const char* value = static_cast<const char*>(nftnl_udata_get(attribute));
  *static_cast<std::string*>(data) =
      std::string(value, ::strnlen(value, nftnl_udata_len(attribute)));
  return 0;
}

std::string CommentOf(const nftnl_rule& rule) {
  uint32_t length = 0;
  const void* userdata = nftnl_rule_get_data(&rule, NFTNL_RULE_USERDATA, &length);
  std::string comment;
  if (userdata) nftnl_udata_parse(userdata, length, CopyComment, &comment);
  return comment;
}

// The rules of one chain, filled by CollectRule from a NFT_MSG_GETRULE dump.
struct ChainListing {
  const std::string& table;
  const std::string& chain;
  std::vector<ListedRule> rules;
};

int CollectRule(const nlmsghdr* reply, void* data) {
  RulePtr rule(nftnl_rule_alloc());
  if (!rule || nftnl_rule_nlmsg_parse(reply, rule.get()) < 0) {
    errno = EBADMSG;
    return MNL_CB_ERROR;
  }
  auto& listing = *static_cast<ChainListing*>(data);
  // The kernel filters the dump by table and chain; this only guards against one that does not.
  const char* table = nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE);
  const char* chain = nftnl_rule_get_str(rule.get(), NFTNL_RULE_CHAIN);
  if (!table || !chain || listing.table != table || listing.chain != chain) return MNL_CB_OK;
  listing.rules.push_back({nftnl_rule_get_u64(rule.get(), NFTNL_RULE_HANDLE), CommentOf(*rule)});
  return MNL_CB_OK;
}

int IgnoreReply(const nlmsghdr*, void*) { return MNL_CB_OK; }

// Asks for the chain. Returns 0 when it exists, else the errno (ENOENT: no such table or chain).
int LookUpChain(NftSocket& socket, const std::string& table, const std::string& chain) {
  ChainPtr wanted(NonNull(nftnl_chain_alloc()));
  nftnl_chain_set_str(wanted.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(wanted.get(), NFTNL_CHAIN_NAME, chain.c_str());
  std::vector<char> request(kMaxRequestSize);
  const uint32_t sequence = socket.NextSequence();
  nlmsghdr* message =
      nftnl_nlmsg_build_hdr(request.data(), NFT_MSG_GETCHAIN, NFPROTO_IPV4, NLM_F_ACK, sequence);
  nftnl_chain_nlmsg_build_payload(message, wanted.get());
  if (const int error = socket.Send(message, message->nlmsg_len)) return error;
  return socket.ReceiveReplies(sequence, IgnoreReply, nullptr);
}

// One NFT_MSG_GETRULE dump of the chain's rules. Returns 0 or the errno.
int DumpRules(NftSocket& socket, ChainListing& listing) {
  RulePtr filter(NonNull(nftnl_rule_alloc()));
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, listing.table.c_str());
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_CHAIN, listing.chain.c_str());
  std::vector<char> request(kMaxRequestSize);
  const uint32_t sequence = socket.NextSequence();
  nlmsghdr* message =
      nftnl_nlmsg_build_hdr(request.data(), NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, sequence);
  nftnl_rule_nlmsg_build_payload(message, filter.get());
  if (const int error = socket.Send(message, message->nlmsg_len)) return error;
  return socket.ReceiveReplies(sequence, CollectRule, &listing);
}

// The chain's rules; throws when the kernel cannot list them.
std::vector<ListedRule> ListRules(NftSocket& socket, const std::string& table,
                                  const std::string& chain) {
  for (int attempt = 1;; ++attempt) {
    ChainListing listing{table, chain, {}};
    const int error = DumpRules(socket, listing);
    if (error == 0) return std::move(listing.rules);
    // EINTR: the ruleset changed during the dump; a new dump sees a consistent one.
    if (error != EINTR || attempt == kDumpAttempts) {
      throw std::runtime_error("cannot list chain " + chain + " of table ip " + table + ": " +
                               Describe(error));
    }
  }
}

std::string MissingChainReason(const std::string& table, const std::string& chain) {
  return "chain " + chain + " of table ip " + table +
         " does not exist: Docker's iptables integration seems off (iptables=false, or "
         "iptables-legacy instead of iptables-nft)";
}

// Whether the chain exists; throws when the kernel cannot tell.
bool ChainExists(NftSocket& socket, const std::string& table, const std::string& chain) {
  const int error = LookUpChain(socket, table, chain);
  if (error == ENOENT) return false;
  if (error != 0) {
    throw std::runtime_error("cannot look up chain " + chain + " of table ip " + table + ": " +
                             Describe(error));
  }
  return true;
}

}  // namespace

std::vector<uint64_t> TaggedRuleHandles(const std::vector<ListedRule>& rules,
                                        const std::string& bridge) {
  const std::string tag = Tag(bridge);
  std::vector<uint64_t> handles;
  for (const ListedRule& rule : rules) {
    if (rule.comment == tag) handles.push_back(rule.handle);
  }
  return handles;
}

bool BridgeForwarding::Allowed(const std::string& bridge) {
  NftSocket socket;
  if (!ChainExists(socket, table_, chain_)) return false;
  return !TaggedRuleHandles(ListRules(socket, table_, chain_), bridge).empty();
}

void BridgeForwarding::Allow(const std::string& bridge) {
  NftSocket socket;
  if (!ChainExists(socket, table_, chain_)) {
    spdlog::warn("{}; bridge {} gets no forwarding rule", MissingChainReason(table_, chain_),
                 bridge);
    return;
  }
  if (!TaggedRuleHandles(ListRules(socket, table_, chain_), bridge).empty()) return;
  RulePtr rule = BridgeRule(table_, chain_, bridge);
  Transaction transaction(socket);
  transaction.InsertRule(*rule);
  if (const int error = transaction.Commit()) {
    const std::string reason =
        error == ENOENT ? MissingChainReason(table_, chain_) : Describe(error);
    throw std::runtime_error("cannot let bridge " + bridge + "'s traffic through chain " + chain_ +
                             ": " + reason);
  }
  spdlog::info("forwarding between the ports of {} allowed in chain {}", bridge, chain_);
}

void BridgeForwarding::Revoke(const std::string& bridge) {
  NftSocket socket;
  if (!ChainExists(socket, table_, chain_)) return;
  const std::vector<uint64_t> handles =
      TaggedRuleHandles(ListRules(socket, table_, chain_), bridge);
  if (handles.empty()) return;
  Transaction transaction(socket);
  for (uint64_t handle : handles) transaction.DeleteRule(table_, chain_, handle);
  const int error = transaction.Commit();
  // ENOENT: the rule (or its chain) went away meanwhile, which is what Revoke wants.
  if (error != 0 && error != ENOENT) {
    throw std::runtime_error("cannot remove bridge " + bridge + "'s rule from chain " + chain_ +
                             ": " + Describe(error));
  }
}

}  // namespace tp::teleroute
