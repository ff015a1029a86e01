// MetadataCache is telemount's cache of what the server said about names: file attributes by
// remote path (AttributeCache) and complete folder listings (FolderListingCache), for a short
// lifetime. It wraps both with a write generation (WriteGenerations, sshfs's write counter kept
// per path): a fill takes a FillTicket before its request goes out and is dropped if the paths it
// would store were changed by us since, so an answer that left the server before a change never
// lands after it. Changes are noted once their request was sent (requests on one session are
// served in order, so later requests see them). Lookups, fills and changes are each atomic.
// Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "sftp/sftp_protocol.h"
#include "sync/mutex.h"
#include "telemount/fs/attribute_cache.h"
#include "telemount/fs/folder_listing_cache.h"
#include "telemount/fs/write_generations.h"

namespace tp::telemount {

class MetadataCache {
 public:
  // When a fill began: take it before sending the request whose answer fills the cache.
  struct FillTicket {
    WriteGenerations::Generation attributes = 0;
    WriteGenerations::Generation listings = 0;
  };

  // Attributes live `lifetime`; folder listings (which answer "no such file") live
  // `listing_lifetime`, by default the same.
  explicit MetadataCache(std::chrono::milliseconds lifetime);
  MetadataCache(std::chrono::milliseconds lifetime, std::chrono::milliseconds listing_lifetime);

  // Lookups.
  std::optional<sftp::FileAttributes> Attributes(const std::string& path);
  // True when the folder of `path` has a fresh list that lacks `path`'s name.
  bool KnownAbsent(const std::string& path);
  // See FolderListingCache::RecordMiss.
  bool RecordMiss(const std::string& path);

  // Fills; each is dropped (returns false) when what it would store changed since `ticket`.
  FillTicket StartFill();
  bool PutAttributes(const std::string& path, const sftp::FileAttributes& attributes,
                     const FillTicket& ticket);
  // The complete listing of `folder`: its names, and each entry's attributes.
  void PutListing(const std::string& folder, const std::vector<sftp::NameEntry>& entries,
                  const FillTicket& ticket);

  // Changes we made (call each once its request was sent; calling before as well is harmless).
  // The attributes of `path` changed (write, truncate, chmod, open with O_TRUNC).
  void Changed(const std::string& path);
  // `path` was made: it and its folder changed; its folder's list gains its name.
  void Added(const std::string& path);
  // Only the last part of Added: for a create that noted Changed(path) and Changed(its folder)
  // when its request went out, and has fills of their attributes in flight since.
  void NameAdded(const std::string& path);
  // `path` was removed: it, everything below it and its folder changed.
  void Removed(const std::string& path);
  // `path` and everything below it changed, and so did its folder (rename's source and target).
  void ChangedTree(const std::string& path);
  // A change of `path` failed or timed out: what we know of it and its folder may be wrong.
  void Uncertain(const std::string& path);

 private:
  void ChangedLocked(const std::string& path) REQUIRES(mutex_);
  // `path`, everything below it, and `folder` (path's folder) changed.
  void ChangedTreeLocked(const std::string& path, const std::string& folder) REQUIRES(mutex_);

  Mutex mutex_;
  AttributeCache attributes_ GUARDED_BY(mutex_);
  FolderListingCache listings_ GUARDED_BY(mutex_);
  WriteGenerations attribute_changes_ GUARDED_BY(mutex_);  // keys are paths
  WriteGenerations listing_changes_ GUARDED_BY(mutex_);    // keys are folders
};

}  // namespace tp::telemount
