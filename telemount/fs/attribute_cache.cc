#include "telemount/fs/attribute_cache.h"

namespace tp::telemount {

std::optional<sftp::FileAttributes> AttributeCache::Get(const std::string& path) {
  auto it = entries_.find(path);
  if (it == entries_.end()) return std::nullopt;
  if (it->second.expiry < std::chrono::steady_clock::now()) {
    entries_.erase(it);
    return std::nullopt;
  }
  return it->second.attributes;
}

void AttributeCache::Put(const std::string& path, const sftp::FileAttributes& attributes) {
  if (lifetime_.count() <= 0) return;
  if (entries_.size() >= kMaxEntries) entries_.clear();
  entries_[path] = Entry{attributes, std::chrono::steady_clock::now() + lifetime_};
}

void AttributeCache::Invalidate(const std::string& path) { entries_.erase(path); }

void AttributeCache::InvalidateTree(const std::string& path) {
  const std::string prefix = path + "/";
  entries_.erase(path);
  std::erase_if(entries_, [&](const auto& entry) { return entry.first.starts_with(prefix); });
}

}  // namespace tp::telemount
