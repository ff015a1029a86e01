// Batch collects nftables requests for one transaction: NFNL_MSG_BATCH_BEGIN, the requests, END.
// The kernel applies all of them or none (Socket::Commit sends a batch). Each request asks for
// an ack. Building a batch is pure (bytes in memory), so tests can parse it back. Not
// thread-safe.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "nftables/objects.h"

struct nlmsghdr;

namespace tp::nft {

class Batch {
 public:
  // Sequence numbers of the requests count up from `first_sequence`.
  explicit Batch(uint32_t first_sequence = 1);

  // `add table`: creates it, or leaves an existing one as it is.
  Batch& AddTable(const Table& table);
  // `delete table`: with everything in it; fails (ENOENT) when there is none.
  Batch& DeleteTable(const Table& table);
  // `add chain` of a base chain; leaves an existing one as it is.
  Batch& AddChain(const BaseChain& chain);
  // `add set`, then its elements (if any) in a second request.
  Batch& AddSet(const Set& set);
  // `flush set`: removes every element.
  Batch& FlushSet(const Set& set);
  // `add element`: `elements` into `set` (which may be created earlier in this batch).
  Batch& AddElements(const Set& set, const std::vector<Element>& elements);
  // `add rule`: at the end of its chain.
  Batch& AppendRule(const Rule& rule);
  // `insert rule`: at the top of its chain.
  Batch& InsertRule(const Rule& rule);
  // `delete rule ... handle HANDLE`.
  Batch& DeleteRule(uint16_t family, const std::string& table, const std::string& chain,
                    uint64_t handle);

  // The whole batch, END included. The batch takes no more requests afterwards.
  std::span<const char> Finish();
  // How many requests (not counting BEGIN and END) the batch holds: the acks to wait for.
  size_t requests() const { return requests_; }

 private:
  // Appends the message `build` writes at the address it is given, with `capacity` bytes there.
  template <typename Build>
  void Append(size_t capacity, Build build);
  template <typename Build>
  void AppendRequest(size_t capacity, Build build);

  std::vector<char> bytes_;
  uint32_t sequence_;
  size_t requests_ = 0;
  bool finished_ = false;
};

}  // namespace tp::nft
