#include "telemount/fs/folder_listing_cache.h"

namespace tp::telemount {

std::pair<std::string, std::string> SplitPath(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos || path == "/") return {"", ""};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

FolderListingCache::Listing* FolderListingCache::FreshListing(const std::string& folder) {
  auto it = listings_.find(folder);
  if (it == listings_.end()) return nullptr;
  if (it->second.expiry < Clock::now()) {
    listings_.erase(it);
    return nullptr;
  }
  return &it->second;
}

bool FolderListingCache::KnownAbsent(const std::string& path) {
  const auto [folder, name] = SplitPath(path);
  if (name.empty()) return false;
  const Listing* listing = FreshListing(folder);
  return listing != nullptr && listing->names.count(name) == 0;
}

bool FolderListingCache::RecordMiss(const std::string& path) {
  if (lifetime_.count() <= 0) return false;
  const std::string folder = SplitPath(path).first;
  if (folder.empty()) return false;
  if (misses_.size() > 1000) misses_.clear();
  Misses& misses = misses_[folder];
  const auto now = Clock::now();
  if (now - misses.since > lifetime_) misses = Misses{0, now};
  return ++misses.count == 2;
}

void FolderListingCache::PutListing(const std::string& folder,
                                    const std::vector<std::string>& names) {
  if (lifetime_.count() <= 0 || names.size() > kMaxNames) return;
  if (listings_.size() > 1000) listings_.clear();
  Listing& listing = listings_[folder];
  listing.names = std::unordered_set<std::string>(names.begin(), names.end());
  listing.expiry = Clock::now() + lifetime_;
}

void FolderListingCache::Added(const std::string& path) {
  const auto [folder, name] = SplitPath(path);
  if (Listing* listing = FreshListing(folder)) listing->names.insert(name);
}

void FolderListingCache::Removed(const std::string& path) {
  const auto [folder, name] = SplitPath(path);
  if (Listing* listing = FreshListing(folder)) listing->names.erase(name);
}

void FolderListingCache::ForgetTree(const std::string& folder) {
  const std::string prefix = folder == "/" ? "/" : folder + "/";
  std::erase_if(listings_, [&](const auto& entry) {
    return entry.first == folder || entry.first.starts_with(prefix);
  });
}

}  // namespace tp::telemount
