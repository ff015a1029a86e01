// FolderListingCache remembers for a short time the complete list of names in a folder, so that
// looking up a name that is not there (every create begins with such a lookup) costs no round
// trip. Our own creates and removals keep the lists current; a folder that changes on the
// server is seen at the latest when its list expires. Not thread-safe: MetadataCache, its only
// user, guards it and keeps late fills out.
#pragma once

#include <chrono>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace tp::telemount {

class FolderListingCache {
 public:
  explicit FolderListingCache(std::chrono::milliseconds lifetime) : lifetime_(lifetime) {}

  // True when the folder of `path` has a fresh list that lacks `path`'s name.
  bool KnownAbsent(const std::string& path);
  // Counts a lookup of `path` that the server answered "no such file"; true when its folder
  // has missed twice within the lifetime, so that fetching its list is worth it.
  bool RecordMiss(const std::string& path);
  // Stores the complete list of `folder` (ignored for very large folders).
  void PutListing(const std::string& folder, const std::vector<std::string>& names);
  void Added(const std::string& path);
  void Removed(const std::string& path);
  // Forgets the lists of `folder` and of every folder below it.
  void ForgetTree(const std::string& folder);

  static constexpr size_t kMaxNames = 20000;

 private:
  using Clock = std::chrono::steady_clock;
  struct Listing {
    std::unordered_set<std::string> names;
    Clock::time_point expiry;
  };
  struct Misses {
    int count = 0;
    Clock::time_point since;
  };
  // The listing of `folder` if fresh, else nullptr.
  Listing* FreshListing(const std::string& folder);

  const std::chrono::milliseconds lifetime_;
  std::unordered_map<std::string, Listing> listings_;
  std::unordered_map<std::string, Misses> misses_;
};

// "/a/b" -> {"/a", "b"}; "/a" -> {"/", "a"}; "/" -> {"", ""}.
std::pair<std::string, std::string> SplitPath(const std::string& path);

}  // namespace tp::telemount
