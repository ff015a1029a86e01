// NftContext runs nftables commands through libnftables: text in the nft language, each call one
// atomic transaction (all of it applies or none), with the output and the error messages
// captured instead of printed. Its netlink socket is opened at creation, so every later command
// acts on the network namespace of the thread that created the context. Not thread-safe.
#pragma once

#include <memory>
#include <string>

struct nft_ctx;

namespace tp {

struct NftResult {
  bool ok = false;
  std::string output;  // what a `list` command printed
  std::string error;   // libnftables' message when !ok
};

class NftContext {
 public:
  // nullptr with `error` set when libnftables cannot start (no netlink socket). With
  // `with_handles`, listings end each rule with its "# handle N" (what `delete rule` needs).
  static std::unique_ptr<NftContext> Create(std::string& error, bool with_handles = false);
  ~NftContext();
  NftContext(const NftContext&) = delete;
  NftContext& operator=(const NftContext&) = delete;

  // Runs `commands` (one or more lines). Numbers are printed as numbers (protocols, priorities),
  // so nothing needs /etc/protocols or friends.
  NftResult Run(const std::string& commands);

 private:
  explicit NftContext(nft_ctx* context) : context_(context) {}

  nft_ctx* const context_;
};

}  // namespace tp
