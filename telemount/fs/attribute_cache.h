// AttributeCache remembers file attributes by remote path for a short time, so that a `stat`
// right after a listing or a create costs no round trip. Our own changes invalidate entries.
// Not thread-safe: MetadataCache, its only user, guards it and keeps late fills out.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>

#include "sftp/sftp_protocol.h"

namespace tp::telemount {

class AttributeCache {
 public:
  explicit AttributeCache(std::chrono::milliseconds lifetime) : lifetime_(lifetime) {}

  std::optional<sftp::FileAttributes> Get(const std::string& path);
  void Put(const std::string& path, const sftp::FileAttributes& attributes);
  void Invalidate(const std::string& path);
  // Forgets `path` and everything below it (after a rename or removal of a folder).
  void InvalidateTree(const std::string& path);

 private:
  struct Entry {
    sftp::FileAttributes attributes;
    std::chrono::steady_clock::time_point expiry;
  };
  static constexpr size_t kMaxEntries = 200000;
  const std::chrono::milliseconds lifetime_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace tp::telemount
