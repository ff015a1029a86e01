#include "telemount/fs/metadata_cache.h"

#include "sync/mutex.h"

namespace tp::telemount {

MetadataCache::MetadataCache(std::chrono::milliseconds lifetime)
    : MetadataCache(lifetime, lifetime) {}

MetadataCache::MetadataCache(std::chrono::milliseconds lifetime,
                             std::chrono::milliseconds listing_lifetime)
    : attributes_(lifetime), listings_(listing_lifetime) {}

std::optional<sftp::FileAttributes> MetadataCache::Attributes(const std::string& path) {
  MutexLock lock(mutex_);
  return attributes_.Get(path);
}

bool MetadataCache::KnownAbsent(const std::string& path) {
  MutexLock lock(mutex_);
  return listings_.KnownAbsent(path);
}

bool MetadataCache::RecordMiss(const std::string& path) {
  MutexLock lock(mutex_);
  return listings_.RecordMiss(path);
}

MetadataCache::FillTicket MetadataCache::StartFill() {
  MutexLock lock(mutex_);
  return FillTicket{attribute_changes_.Now(), listing_changes_.Now()};
}

bool MetadataCache::PutAttributes(const std::string& path, const sftp::FileAttributes& attributes,
                                  const FillTicket& ticket) {
  MutexLock lock(mutex_);
  if (!attribute_changes_.UnchangedSince(path, ticket.attributes)) return false;
  attributes_.Put(path, attributes);
  return true;
}

void MetadataCache::PutListing(const std::string& folder,
                               const std::vector<sftp::NameEntry>& entries,
                               const FillTicket& ticket) {
  const std::string prefix = folder == "/" ? "" : folder;
  std::vector<std::string> names;
  names.reserve(entries.size());
  MutexLock lock(mutex_);
  for (const auto& entry : entries) {
    names.push_back(entry.filename);
    if (entry.filename == "." || entry.filename == "..") continue;
    const std::string path = prefix + "/" + entry.filename;
    if (attribute_changes_.UnchangedSince(path, ticket.attributes)) {
      attributes_.Put(path, entry.attributes);
    }
  }
  if (listing_changes_.UnchangedSince(folder, ticket.listings)) {
    listings_.PutListing(folder, names);
  }
}

void MetadataCache::ChangedLocked(const std::string& path) {
  attribute_changes_.Changed(path);
  attributes_.Invalidate(path);
}

void MetadataCache::Changed(const std::string& path) {
  MutexLock lock(mutex_);
  ChangedLocked(path);
}

void MetadataCache::Added(const std::string& path) {
  const std::string folder = SplitPath(path).first;
  MutexLock lock(mutex_);
  ChangedLocked(path);
  ChangedLocked(folder);
  listing_changes_.Changed(folder);
  listings_.Added(path);
}

void MetadataCache::NameAdded(const std::string& path) {
  const std::string folder = SplitPath(path).first;
  MutexLock lock(mutex_);
  listing_changes_.Changed(folder);
  listings_.Added(path);
}

void MetadataCache::ChangedTreeLocked(const std::string& path, const std::string& folder) {
  attribute_changes_.ChangedTree(path);
  attributes_.InvalidateTree(path);
  ChangedLocked(folder);
  listing_changes_.ChangedTree(path);
  listings_.ForgetTree(path);
}

void MetadataCache::Removed(const std::string& path) {
  const std::string folder = SplitPath(path).first;
  MutexLock lock(mutex_);
  ChangedTreeLocked(path, folder);
  listing_changes_.Changed(folder);
  listings_.Removed(path);
}

void MetadataCache::ChangedTree(const std::string& path) {
  const std::string folder = SplitPath(path).first;
  MutexLock lock(mutex_);
  ChangedTreeLocked(path, folder);
}

void MetadataCache::Uncertain(const std::string& path) {
  const std::string folder = SplitPath(path).first;
  MutexLock lock(mutex_);
  attribute_changes_.ChangedTree(path);
  attributes_.InvalidateTree(path);
  ChangedLocked(folder);
  listing_changes_.ChangedTree(folder);
  listings_.ForgetTree(folder);
}

}  // namespace tp::telemount
