// Socket is a netfilter netlink socket for nftables requests, bound to the network namespace of
// the thread that opens it: everything sent through it acts there, whichever thread sends. Every
// wait for the kernel ends within a few seconds. Errors are errno values (0: success). One
// request at a time: not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "nftables/batch.h"

struct mnl_socket;

namespace tp::nft {

// One rule of a chain as the kernel lists it.
struct ListedRule {
  uint64_t handle = 0;
  std::string comment;  // the userdata comment ("" when none)
};

class Socket {
 public:
  // nullptr with `error` set when no netfilter netlink socket can be opened or bound.
  static std::unique_ptr<Socket> Open(int& error);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // Sends `batch` (finishing it) as one transaction and waits for every ack. Returns 0 when the
  // kernel applied it all, else the first request's error (and the kernel applied none of it).
  int Commit(Batch& batch);

  // 0 when the chain exists, ENOENT when it (or its table) does not, else the errno.
  int LookUpChain(uint16_t family, const std::string& table, const std::string& chain);

  // The rules of one chain, in order; a dump that a concurrent change interrupted is retried.
  // Returns 0 or the errno. A missing chain or table lists no rules (see LookUpChain).
  int ListRules(uint16_t family, const std::string& table, const std::string& chain,
                std::vector<ListedRule>& rules);

 private:
  explicit Socket(mnl_socket* socket);

  int Send(const void* bytes, size_t length);
  int ReceiveAcks(size_t count);
  void DrainReplies();
  template <typename Callback>
  int ReceiveReplies(uint32_t sequence, Callback& callback);
  int DumpRules(uint16_t family, const std::string& table, const std::string& chain,
                std::vector<ListedRule>& rules);

  struct Closer {
    void operator()(mnl_socket* socket) const;
  };
  std::unique_ptr<mnl_socket, Closer> socket_;
  uint32_t port_id_ = 0;
  uint32_t sequence_ = 0;
  std::vector<char> buffer_;
};

// A sentence for an errno returned above ("operation not permitted (CAP_NET_ADMIN is needed)").
std::string ErrorText(int error);

}  // namespace tp::nft
