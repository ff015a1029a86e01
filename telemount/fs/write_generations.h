// WriteGenerations is the write counter of sshfs's cache.c, kept per key: every change to a key
// (a remote path) moves a clock and stamps the key; a cache fill carries the clock value read
// before its request went out, and may be stored only if its key was not changed since. So an
// answer the server gave before a change cannot land in a cache after the change, however late
// it arrives. Remembering every key's stamp forever is not needed: when there are too many, all
// are forgotten at once and fills that began before that moment are refused (a cache miss, never
// a stale answer). Not thread-safe: its owner's lock guards it (see MetadataCache).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tp::telemount {

class WriteGenerations {
 public:
  using Generation = uint64_t;

  // The clock now: what a fill takes before sending its request.
  Generation Now() const { return clock_; }
  // `key` changed (call once the change was sent: requests sent later see it on the server).
  void Changed(const std::string& key);
  // `key` and every key below it ("key/...") changed: a folder renamed or removed.
  void ChangedTree(const std::string& key);
  // True when a fill of `key` that began at `since` may be stored.
  bool UnchangedSince(const std::string& key, Generation since) const;

  static constexpr size_t kMaxKeys = 8192;
  static constexpr size_t kMaxTrees = 64;

 private:
  // Forgets every stamp; fills that began before now are refused from here on.
  void ForgetAll();

  Generation clock_ = 1;
  Generation floor_ = 0;  // fills that began before this are refused
  std::unordered_map<std::string, Generation> changed_at_;
  std::vector<std::pair<std::string, Generation>> trees_changed_at_;
};

// True when `key` is `tree` or lies below it ("/" is above every absolute path).
bool IsInTree(std::string_view key, std::string_view tree);

}  // namespace tp::telemount
