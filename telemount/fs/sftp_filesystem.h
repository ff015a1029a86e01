// SftpFileSystem implements the libfuse3 high-level operations over one SftpConnection: every
// path P of the mount is the remote path remote_root + P, except under the hidden folder
// kVolumesFolder: there, VolumeRootName(F) is a folder that shows the remote folder F as the
// server resolves it (links in F followed by the server, in its own view of its files), so a
// volume's path ends in a folder of this file system that no link leads out of, whatever the
// server's links are (see VolumeRootPath). The hidden folder itself cannot be listed or changed,
// and volume roots cannot be removed or renamed through it. Reads of a sequential reader are split
// into concurrent requests and prefetched; writes are pipelined and their errors reported no
// later than flush/fsync/close. Handles opened before a reconnect fail with EIO. Names,
// attributes and read-ahead are cached with a write generation (MetadataCache, DataGenerations):
// once one of our changes returned, no answer the server gave before it is served from a cache.
// No lock is held across a request or a wait. Thread-safe: it is meant for the multi-threaded
// FUSE loop.
//
// Its definition is split by responsibility: sftp_filesystem.cc (names, attributes, errors),
// sftp_filesystem_files.cc (open files), sftp_filesystem_folders.cc (listings),
// fuse_operations.cc (the libfuse table), mount_paths.h (pure path helpers), open_file.h.
#pragma once

#define FUSE_USE_VERSION 35
#include <fuse.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sftp/sftp_session.h"
#include "telemount/fs/data_generations.h"
#include "telemount/fs/metadata_cache.h"
#include "telemount/remote_mount.h"

namespace tp::telemount {

// The longest that folder listings (they answer "no such file") and the kernel's copy of
// attributes are kept, whatever the cache timeout.
inline constexpr std::chrono::milliseconds kShortCacheTimeout{1000};

class SftpFileSystem {
 public:
  SftpFileSystem(std::shared_ptr<sftp::SftpConnection> connection, std::string remote_root,
                 std::chrono::milliseconds cache_timeout);

  // Before the kernel's first request: puts the root's attributes in the cache (the first lookup
  // then costs no round trip for them), and opens and closes the root folder, which shows the
  // session how the server names handles so that the first file opened is read in the same round
  // trip (SftpSession::TransmitOpen). Best effort: a failure here only costs those round trips.
  void WarmUp();

  // The operation table; each entry finds this object in fuse_get_context()->private_data.
  static const fuse_operations& Operations();

  std::chrono::milliseconds cache_timeout() const { return cache_timeout_; }
  // How long folder listings and the kernel's copy of attributes last.
  std::chrono::milliseconds short_cache_timeout() const {
    return std::min(cache_timeout_, kShortCacheTimeout);
  }

  // The FUSE operations (paths are mount-relative, absolute; results are 0 or -errno).
  int GetAttr(const char* path, struct stat* st, fuse_file_info* fi);
  int ReadLink(const char* path, char* buffer, size_t size);
  int MakeDirectory(const char* path, mode_t mode);
  int Unlink(const char* path);
  int RemoveDirectory(const char* path);
  int Symlink(const char* target, const char* path);
  int Rename(const char* from, const char* to, unsigned int flags);
  int Link(const char* from, const char* to);
  int Chmod(const char* path, mode_t mode, fuse_file_info* fi);
  int Chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi);
  int Truncate(const char* path, off_t size, fuse_file_info* fi);
  int Open(const char* path, fuse_file_info* fi);
  int Create(const char* path, mode_t mode, fuse_file_info* fi);
  int Read(char* buffer, size_t size, off_t offset, fuse_file_info* fi);
  int Write(const char* buffer, size_t size, off_t offset, fuse_file_info* fi);
  int StatFs(const char* path, struct statvfs* stats);
  int Flush(fuse_file_info* fi);
  int Release(fuse_file_info* fi);
  int Fsync(fuse_file_info* fi);
  int OpenDirectory(const char* path, fuse_file_info* fi);
  int ReadDirectory(const char* path, void* buffer, fuse_fill_dir_t filler, off_t offset,
                    fuse_file_info* fi, fuse_readdir_flags flags);
  int ReleaseDirectory(fuse_file_info* fi);
  int Utimens(const char* path, const timespec times[2], fuse_file_info* fi);

 private:
  struct OpenFile;
  struct OpenDirectoryHandle;

  std::string RemotePath(const char* path) const;
  // GetAttr of a volume root: STAT (links followed by the server), never a link; not cached, as
  // the plain view of the same remote path holds LSTAT's answer.
  int VolumeRootAttributes(const char* path, struct stat* st);
  std::shared_ptr<sftp::SftpSession> Session(int* error);
  struct SentOpen;
  // Sends an OPEN with `flags` (open(2)'s) and what rides with it; notes what it changes in the
  // caches once it is sent.
  SentOpen SendOpen(sftp::SftpSession& session, const std::string& remote, int flags, mode_t mode);
  // Runs one request that answers STATUS; returns 0 or -errno.
  int CallStatus(sftp::PacketType type, const std::function<void(sftp::PacketWriter&)>& fill);
  int Lstat(const std::string& remote, sftp::FileAttributes* attributes);
  int SetAttributes(const char* path, fuse_file_info* fi, const sftp::FileAttributes& attributes);
  bool DirectoryHasEntries(const std::string& remote);
  int ExplainFailure(int error, const std::string& remote, sftp::PacketType operation);
  // Waits, without the file's lock, until at most `keep_in_flight_bytes` written to `file` are
  // unacknowledged; returns the first write error (0 if none).
  int WaitForWrites(OpenFile& file, size_t keep_in_flight_bytes);
  // Reads the whole listing of an open folder into it (and into the caches), opening it on the
  // server first if it is not yet; 0 or -errno.
  int ListDirectory(OpenDirectoryHandle& directory);
  // Sends OPENDIR and, when the handle can be predicted, the first READDIR batch with it; sets
  // the folder's handle, and leaves in *first_batch those READDIRs' replies if the prediction
  // held. 0 or errno.
  int OpenOnServer(OpenDirectoryHandle& directory, std::vector<sftp::PendingReply>* first_batch);
  // Closes the folder's handle on the server, if it was opened there (no wait).
  void CloseOnServer(const OpenDirectoryHandle& directory);
  // Fetches the listing of `folder` for the caches only.
  void RefreshListing(const std::string& folder);
  // Keeps the folder listings current after a change we made (`error` 0) or tried (-errno).
  void NoteAdded(const std::string& path, int error);
  void NoteRemoved(const std::string& path, int error);

  std::shared_ptr<sftp::SftpConnection> connection_;
  const std::string remote_root_;  // "" for "/", otherwise without a trailing slash
  const std::chrono::milliseconds cache_timeout_;
  MetadataCache cache_;               // names and attributes, with their write generation
  DataGenerations data_generations_;  // the write generation of the open files' read-ahead
  std::atomic<int> wide_readers_{0};  // open files with a wide read-ahead window (open_file.h)
};

}  // namespace tp::telemount
