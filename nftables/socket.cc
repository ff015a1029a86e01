#include "nftables/socket.h"

#include <libmnl/libmnl.h>
#include <libnftnl/common.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

#include "nftables/owned.h"

namespace tp::nft {
namespace {

// How long a request may wait for the kernel's answer before it counts as failed.
constexpr timeval kReplyTimeout{5, 0};
// Room for any one message of a dump (libmnl's MNL_SOCKET_DUMP_SIZE).
constexpr size_t kReceiveBufferSize = 32768;
// Room for a dump or lookup request.
constexpr size_t kRequestSize = 4096;
// Dumps interrupted by a concurrent ruleset change are retried this many times.
constexpr int kDumpAttempts = 3;

// Calls a C++ callable for each reply mnl_cb_run passes on.
template <typename Callback>
int Trampoline(const nlmsghdr* reply, void* data) {
  return (*static_cast<Callback*>(data))(reply);
}

// The comment in a rule's userdata, as nft stores it (NUL-terminated NFTNL_UDATA_RULE_COMMENT).
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
  if (userdata != nullptr) nftnl_udata_parse(userdata, length, CopyComment, &comment);
  return comment;
}

}  // namespace

void Socket::Closer::operator()(mnl_socket* socket) const { mnl_socket_close(socket); }

Socket::Socket(mnl_socket* socket) : socket_(socket), buffer_(kReceiveBufferSize) {}

Socket::~Socket() = default;

std::unique_ptr<Socket> Socket::Open(int& error) {
  mnl_socket* raw = mnl_socket_open(NETLINK_NETFILTER);
  if (raw == nullptr) {
    error = errno;
    return nullptr;
  }
  std::unique_ptr<Socket> socket(new Socket(raw));
  if (mnl_socket_bind(raw, 0, MNL_SOCKET_AUTOPID) < 0) {
    error = errno;
    return nullptr;
  }
  if (::setsockopt(mnl_socket_get_fd(raw), SOL_SOCKET, SO_RCVTIMEO, &kReplyTimeout,
                   sizeof(kReplyTimeout)) != 0) {
    error = errno;
    return nullptr;
  }
  socket->port_id_ = mnl_socket_get_portid(raw);
  return socket;
}

int Socket::Send(const void* bytes, size_t length) {
  return mnl_socket_sendto(socket_.get(), bytes, length) < 0 ? errno : 0;
}

int Socket::Commit(Batch& batch) {
  const std::span<const char> bytes = batch.Finish();
  if (const int error = Send(bytes.data(), bytes.size())) return error;
  return ReceiveAcks(batch.requests());
}

// The kernel answers a batch while it is being sent, so every reply is queued by now. On an
// error the kernel may skip acks (a batch refused as a whole gets one error); the rest of the
// replies are read away so that they do not answer a later request.
int Socket::ReceiveAcks(size_t count) {
  while (count > 0) {
    const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (received < 0) return errno;
    int left = static_cast<int>(received);
    for (auto* reply = reinterpret_cast<nlmsghdr*>(buffer_.data()); mnl_nlmsg_ok(reply, left);
         reply = mnl_nlmsg_next(reply, &left)) {
      if (reply->nlmsg_type != NLMSG_ERROR) continue;
      const auto* ack = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(reply));
      if (ack->error != 0) {
        const int error = -ack->error;  // before DrainReplies reuses the buffer
        DrainReplies();
        return error;
      }
      if (--count == 0) break;
    }
  }
  return 0;
}

void Socket::DrainReplies() {
  while (::recv(mnl_socket_get_fd(socket_.get()), buffer_.data(), buffer_.size(), MSG_DONTWAIT) >
         0) {
  }
}

// Passes the replies to request `sequence` to `callback` until the kernel ends the answer (an
// ack or the end of a dump). Returns 0 or the errno (the kernel's error included).
template <typename Callback>
int Socket::ReceiveReplies(uint32_t sequence, Callback& callback) {
  for (;;) {
    const ssize_t received = mnl_socket_recvfrom(socket_.get(), buffer_.data(), buffer_.size());
    if (received < 0) return errno;
    const int result =
        mnl_cb_run(buffer_.data(), received, sequence, port_id_, Trampoline<Callback>, &callback);
    if (result < 0) {
      const int error = errno;
      DrainReplies();
      return error;
    }
    if (result == MNL_CB_STOP) return 0;
  }
}

int Socket::LookUpChain(uint16_t family, const std::string& table, const std::string& chain) {
  ChainPtr wanted(NonNull(nftnl_chain_alloc()));
  nftnl_chain_set_str(wanted.get(), NFTNL_CHAIN_TABLE, table.c_str());
  nftnl_chain_set_str(wanted.get(), NFTNL_CHAIN_NAME, chain.c_str());
  std::vector<char> request(kRequestSize);
  const uint32_t sequence = ++sequence_;
  nlmsghdr* message =
      nftnl_nlmsg_build_hdr(request.data(), NFT_MSG_GETCHAIN, family, NLM_F_ACK, sequence);
  nftnl_chain_nlmsg_build_payload(message, wanted.get());
  if (const int error = Send(message, message->nlmsg_len)) return error;
  auto ignore = [](const nlmsghdr*) { return MNL_CB_OK; };
  return ReceiveReplies(sequence, ignore);
}

int Socket::DumpRules(uint16_t family, const std::string& table, const std::string& chain,
                      std::vector<ListedRule>& rules) {
  RulePtr filter(NonNull(nftnl_rule_alloc()));
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_TABLE, table.c_str());
  nftnl_rule_set_str(filter.get(), NFTNL_RULE_CHAIN, chain.c_str());
  std::vector<char> request(kRequestSize);
  const uint32_t sequence = ++sequence_;
  nlmsghdr* message =
      nftnl_nlmsg_build_hdr(request.data(), NFT_MSG_GETRULE, family, NLM_F_DUMP, sequence);
  nftnl_rule_nlmsg_build_payload(message, filter.get());
  if (const int error = Send(message, message->nlmsg_len)) return error;
  auto collect = [&](const nlmsghdr* reply) {
    RulePtr rule(nftnl_rule_alloc());
    if (!rule || nftnl_rule_nlmsg_parse(reply, rule.get()) < 0) {
      errno = EBADMSG;
      return MNL_CB_ERROR;
    }
    // The kernel filters the dump by table and chain; this guards against one that does not.
    const char* rule_table = nftnl_rule_get_str(rule.get(), NFTNL_RULE_TABLE);
    const char* rule_chain = nftnl_rule_get_str(rule.get(), NFTNL_RULE_CHAIN);
    if (rule_table == nullptr || rule_chain == nullptr || table != rule_table ||
        chain != rule_chain) {
      return MNL_CB_OK;
    }
    rules.push_back({nftnl_rule_get_u64(rule.get(), NFTNL_RULE_HANDLE), CommentOf(*rule)});
    return MNL_CB_OK;
  };
  return ReceiveReplies(sequence, collect);
}

int Socket::ListRules(uint16_t family, const std::string& table, const std::string& chain,
                      std::vector<ListedRule>& rules) {
  for (int attempt = 1;; ++attempt) {
    rules.clear();
    const int error = DumpRules(family, table, chain, rules);
    // EINTR: the ruleset changed during the dump; a new dump sees a consistent one.
    if (error != EINTR || attempt == kDumpAttempts) return error;
  }
}

std::string ErrorText(int error) {
  if (error == EAGAIN || error == EWOULDBLOCK) return "no answer from the kernel";
  if (error == EPERM) return "operation not permitted (CAP_NET_ADMIN is needed)";
  return std::strerror(error);
}

}  // namespace tp::nft
