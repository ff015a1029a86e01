#include "telemount/fs/sftp_filesystem.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "telemount/fs/mount_paths.h"
#include "telemount/fs/open_file.h"

namespace tp::telemount {

using sftp::FileAttributes;
using sftp::PacketType;
using sftp::PacketWriter;
using sftp::SftpReply;
using sftp::SftpSession;
using sftp::StatusCode;

SftpFileSystem::SftpFileSystem(std::shared_ptr<sftp::SftpConnection> connection,
                               std::string remote_root, std::chrono::milliseconds cache_timeout)
    : connection_(std::move(connection)),
      remote_root_(remote_root == "/" ? "" : std::move(remote_root)),
      cache_timeout_(cache_timeout),
      cache_(cache_timeout, short_cache_timeout()) {}

std::string SftpFileSystem::RemotePath(const char* path) const {
  return RemotePathOf(remote_root_, path);
}

void SftpFileSystem::WarmUp() {
  int error;
  auto session = Session(&error);
  if (!session) return;
  const std::string root = RemotePath("/");
  const auto ticket = cache_.StartFill();
  std::vector<SftpSession::Outgoing> requests(2);
  auto opened = session->Prepare(
      PacketType::kOpendir, [&](PacketWriter& w) { w.String(root); }, &requests[0]);
  auto stat = session->Prepare(
      PacketType::kLstat, [&](PacketWriter& w) { w.String(root); }, &requests[1]);
  session->Transmit(requests);
  SftpReply stat_reply = session->Await(stat);  // the open's reply came before it
  SftpReply open_reply = session->Await(opened);
  if (open_reply.Errno(PacketType::kHandle) == 0) {
    const std::string handle = open_reply.Payload().String();
    session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(handle); });
  }
  if (stat_reply.Errno(PacketType::kAttrs) == 0) {
    cache_.PutAttributes(root, stat_reply.Payload().Attributes(), ticket);
  }
}

int SftpFileSystem::VolumeRootAttributes(const char* path, struct stat* st) {
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const std::string remote = RemotePath(path);
  SftpReply reply = session->Call(PacketType::kStat, [&](PacketWriter& w) { w.String(remote); });
  if (int failure = reply.Errno(PacketType::kAttrs)) return -failure;
  sftp::PacketReader payload = reply.Payload();
  const FileAttributes attributes = payload.Attributes();
  if (!payload.ok()) return -EBADMSG;
  if (!S_ISDIR(attributes.permissions)) return -ENOTDIR;
  ToStat(attributes, st);
  return 0;
}

std::shared_ptr<SftpSession> SftpFileSystem::Session(int* error) {
  auto session = connection_->Session();
  *error = session ? 0 : EIO;
  return session;
}

int SftpFileSystem::CallStatus(PacketType type, const std::function<void(PacketWriter&)>& fill) {
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  return -session->Call(type, fill).Errno();
}

int SftpFileSystem::Lstat(const std::string& remote, FileAttributes* attributes) {
  if (auto cached = cache_.Attributes(remote)) {
    *attributes = *cached;
    return 0;
  }
  if (cache_.KnownAbsent(remote)) return -ENOENT;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const auto ticket = cache_.StartFill();
  SftpReply reply = session->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(remote); });
  if (int failure = reply.Errno(PacketType::kAttrs)) {
    // Names looked up in vain come in runs (a build, an unpack): answer the rest from a list.
    if (failure == ENOENT && cache_.RecordMiss(remote)) RefreshListing(SplitPath(remote).first);
    return -failure;
  }
  sftp::PacketReader payload = reply.Payload();
  *attributes = payload.Attributes();
  if (!payload.ok()) return -EBADMSG;
  cache_.PutAttributes(remote, *attributes, ticket);
  return 0;
}

// SFTP v3 reports most failures as a bare SSH_FX_FAILURE; find the errno POSIX would give.
int SftpFileSystem::ExplainFailure(int error, const std::string& remote, PacketType operation) {
  if (error != EIO) return error;
  cache_.Changed(remote);  // ask the server
  FileAttributes attributes;
  const bool exists = Lstat(remote, &attributes) == 0;
  switch (operation) {
    case PacketType::kMkdir:
    case PacketType::kSymlink:
      return exists ? EEXIST : EIO;
    case PacketType::kRmdir:
      if (!exists) return ENOENT;
      if (!S_ISDIR(attributes.permissions)) return ENOTDIR;
      return DirectoryHasEntries(remote) ? ENOTEMPTY : EIO;
    case PacketType::kRemove:
      if (exists && S_ISDIR(attributes.permissions)) return EISDIR;
      return exists ? EIO : ENOENT;
    default:
      return EIO;
  }
}

int SftpFileSystem::GetAttr(const char* path, struct stat* st, fuse_file_info* fi) {
  FileAttributes attributes;
  if (fi != nullptr && fi->fh != 0) {
    auto* file = reinterpret_cast<OpenFile*>(fi->fh);
    // Writes drop the cached entry, so a cached one is current (right after a create, say).
    if (auto cached = cache_.Attributes(file->remote_path)) {
      ToStat(*cached, st);
      return 0;
    }
    SftpReply reply =
        file->session->Call(PacketType::kFstat, [&](PacketWriter& w) { w.String(file->handle); });
    if (int failure = reply.Errno(PacketType::kAttrs)) return -failure;
    attributes = reply.Payload().Attributes();
  } else {
    if (path == nullptr) return -EBADF;
    switch (PlaceOf(path)) {
      case Place::kVolumesFolder:  // searchable, not listable, not changeable
        std::memset(st, 0, sizeof(*st));
        st->st_mode = S_IFDIR | 0111;
        st->st_nlink = 2;
        return 0;
      case Place::kVolumeRoot:
        return VolumeRootAttributes(path, st);
      default:
        break;
    }
    if (int result = Lstat(RemotePath(path), &attributes)) return result;
  }
  ToStat(attributes, st);
  return 0;
}

int SftpFileSystem::ReadLink(const char* path, char* buffer, size_t size) {
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const std::string remote = RemotePath(path);
  SftpReply reply =
      session->Call(PacketType::kReadlink, [&](PacketWriter& w) { w.String(remote); });
  if (int failure = reply.Errno(PacketType::kName)) return -failure;
  auto names = reply.Payload().Names();
  if (names.size() != 1 || size == 0) return -EBADMSG;
  const std::string& target = names.front().filename;
  const size_t length = std::min(target.size(), size - 1);
  std::memcpy(buffer, target.data(), length);
  buffer[length] = '\0';
  return 0;
}

int SftpFileSystem::MakeDirectory(const char* path, mode_t mode) {
  if (IsFixed(path)) return -EPERM;
  const std::string remote = RemotePath(path);
  FileAttributes attributes;
  attributes.flags = FileAttributes::kPermissions;
  attributes.permissions = mode & 07777;
  const auto ticket = cache_.StartFill();  // for the new folder's list
  int result = CallStatus(PacketType::kMkdir,
                          [&](PacketWriter& w) { w.String(remote).Attributes(attributes); });
  if (result != 0) {
    cache_.Uncertain(remote);
    return -ExplainFailure(-result, remote, PacketType::kMkdir);
  }
  cache_.Added(remote);
  cache_.PutListing(remote, {}, ticket);  // a folder we just made is empty
  return 0;
}

int SftpFileSystem::Unlink(const char* path) {
  if (IsFixed(path)) return -EPERM;
  const std::string remote = RemotePath(path);
  int result = CallStatus(PacketType::kRemove, [&](PacketWriter& w) { w.String(remote); });
  NoteRemoved(remote, result);
  return result == 0 ? 0 : -ExplainFailure(-result, remote, PacketType::kRemove);
}

int SftpFileSystem::RemoveDirectory(const char* path) {
  if (IsFixed(path)) return -EPERM;
  const std::string remote = RemotePath(path);
  int result = CallStatus(PacketType::kRmdir, [&](PacketWriter& w) { w.String(remote); });
  NoteRemoved(remote, result);
  return result == 0 ? 0 : -ExplainFailure(-result, remote, PacketType::kRmdir);
}

int SftpFileSystem::Symlink(const char* target, const char* path) {
  if (IsFixed(path)) return -EPERM;
  const std::string remote = RemotePath(path);
  // OpenSSH's server takes the target first, unlike the draft; every client follows OpenSSH.
  int result =
      CallStatus(PacketType::kSymlink, [&](PacketWriter& w) { w.String(target).String(remote); });
  NoteAdded(remote, result);
  return result == 0 ? 0 : -ExplainFailure(-result, remote, PacketType::kSymlink);
}

int SftpFileSystem::Rename(const char* from, const char* to, unsigned int flags) {
  if (IsFixed(from) || IsFixed(to)) return -EPERM;
  if (flags & RENAME_EXCHANGE) return -EINVAL;
  const std::string source = RemotePath(from);
  const std::string target = RemotePath(to);
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  FileAttributes target_attributes;
  cache_.Changed(target);  // ask the server
  const bool target_exists = Lstat(target, &target_attributes) == 0;
  if ((flags & RENAME_NOREPLACE) && target_exists) return -EEXIST;

  SftpReply reply;
  if (!(flags & RENAME_NOREPLACE) && session->HasExtension("posix-rename@openssh.com")) {
    auto pending = session->SendExtended("posix-rename@openssh.com",
                                         [&](PacketWriter& w) { w.String(source).String(target); });
    reply = session->Await(pending);
  } else {
    reply = session->Call(PacketType::kRename,
                          [&](PacketWriter& w) { w.String(source).String(target); });
  }
  int failure = reply.Errno();
  if (failure == 0) {
    cache_.Removed(source);
    cache_.ChangedTree(target);
    cache_.Added(target);
    return 0;
  }
  cache_.Uncertain(source);
  cache_.Uncertain(target);
  if (failure != EIO || reply.error != 0) return -failure;
  // Find the POSIX reason for a bare failure.
  FileAttributes source_attributes;
  if (Lstat(source, &source_attributes) != 0) return -ENOENT;
  cache_.Changed(source);
  if (!target_exists) return -EIO;
  const bool source_is_dir = S_ISDIR(source_attributes.permissions);
  const bool target_is_dir = S_ISDIR(target_attributes.permissions);
  if (source_is_dir && !target_is_dir) return -ENOTDIR;
  if (!source_is_dir && target_is_dir) return -EISDIR;
  if (target_is_dir && DirectoryHasEntries(target)) return -ENOTEMPTY;
  return -EIO;
}

int SftpFileSystem::Link(const char* from, const char* to) {
  if (IsFixed(from) || IsFixed(to)) return -EPERM;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  if (!session->HasExtension("hardlink@openssh.com")) return -ENOSYS;
  const std::string source = RemotePath(from);
  const std::string target = RemotePath(to);
  auto pending = session->SendExtended("hardlink@openssh.com",
                                       [&](PacketWriter& w) { w.String(source).String(target); });
  SftpReply reply = session->Await(pending);
  int failure = reply.Errno();
  cache_.Changed(source);  // its link count
  NoteAdded(target, -failure);
  if (failure == EIO && reply.error == 0) {
    FileAttributes ignored;
    if (Lstat(target, &ignored) == 0) return -EEXIST;
  }
  return -failure;
}

int SftpFileSystem::SetAttributes(const char* path, fuse_file_info* fi,
                                  const FileAttributes& attributes) {
  if (path != nullptr && PlaceOf(path) == Place::kVolumesFolder) return -EPERM;
  if (fi != nullptr && fi->fh != 0) {
    auto* file = reinterpret_cast<OpenFile*>(fi->fh);
    const int failure =
        file->session
            ->Call(PacketType::kFsetstat,
                   [&](PacketWriter& w) { w.String(file->handle).Attributes(attributes); })
            .Errno();
    cache_.Changed(file->remote_path);
    return -failure;
  }
  if (path == nullptr) return -EBADF;
  const std::string remote = RemotePath(path);
  const int result = CallStatus(PacketType::kSetstat,
                                [&](PacketWriter& w) { w.String(remote).Attributes(attributes); });
  cache_.Changed(remote);
  return result;
}

int SftpFileSystem::Chmod(const char* path, mode_t mode, fuse_file_info* fi) {
  FileAttributes attributes;
  attributes.flags = FileAttributes::kPermissions;
  attributes.permissions = mode & 07777;
  return SetAttributes(path, fi, attributes);
}

int SftpFileSystem::Chown(const char* path, uid_t uid, gid_t gid, fuse_file_info* fi) {
  FileAttributes attributes;
  if (uid == static_cast<uid_t>(-1) || gid == static_cast<gid_t>(-1)) {
    struct stat current;
    if (int result = GetAttr(path, &current, fi)) return result;
    if (uid == static_cast<uid_t>(-1)) uid = current.st_uid;
    if (gid == static_cast<gid_t>(-1)) gid = current.st_gid;
  }
  attributes.flags = FileAttributes::kUidGid;
  attributes.uid = uid;
  attributes.gid = gid;
  return SetAttributes(path, fi, attributes);
}

int SftpFileSystem::Truncate(const char* path, off_t size, fuse_file_info* fi) {
  if (path != nullptr && IsFixed(path)) return -EPERM;
  std::string remote;
  if (fi != nullptr && fi->fh != 0) {
    remote = reinterpret_cast<OpenFile*>(fi->fh)->remote_path;
  } else if (path != nullptr) {
    remote = RemotePath(path);
  }
  FileAttributes attributes;
  attributes.flags = FileAttributes::kSize;
  attributes.size = static_cast<uint64_t>(size);
  data_generations_.Bump(remote);
  const int result = SetAttributes(path, fi, attributes);
  data_generations_.Bump(remote);
  return result;
}

int SftpFileSystem::Utimens(const char* path, const timespec times[2], fuse_file_info* fi) {
  FileAttributes attributes;
  attributes.flags = FileAttributes::kAccessModifyTime;
  struct stat current {};
  const bool omit = times[0].tv_nsec == UTIME_OMIT || times[1].tv_nsec == UTIME_OMIT;
  if (omit) {
    if (int result = GetAttr(path, &current, fi)) return result;
  }
  const time_t now = ::time(nullptr);
  auto pick = [&](const timespec& requested, time_t existing) -> uint32_t {
    if (requested.tv_nsec == UTIME_NOW) return static_cast<uint32_t>(now);
    if (requested.tv_nsec == UTIME_OMIT) return static_cast<uint32_t>(existing);
    return static_cast<uint32_t>(requested.tv_sec);
  };
  attributes.atime = pick(times[0], current.st_atim.tv_sec);
  attributes.mtime = pick(times[1], current.st_mtim.tv_sec);
  return SetAttributes(path, fi, attributes);
}

int SftpFileSystem::StatFs(const char* path, struct statvfs* stats) {
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  std::memset(stats, 0, sizeof(*stats));
  if (!session->HasExtension("statvfs@openssh.com")) {
    stats->f_bsize = stats->f_frsize = 4096;
    stats->f_namemax = 255;
    return 0;
  }
  const std::string remote = RemotePath(path);
  auto pending =
      session->SendExtended("statvfs@openssh.com", [&](PacketWriter& w) { w.String(remote); });
  SftpReply reply = session->Await(pending);
  if (int failure = reply.Errno(PacketType::kExtendedReply)) return -failure;
  sftp::FileSystemStats remote_stats = reply.Payload().StatVfs();
  stats->f_bsize = remote_stats.block_size;
  stats->f_frsize = remote_stats.fragment_size;
  stats->f_blocks = remote_stats.blocks;
  stats->f_bfree = remote_stats.blocks_free;
  stats->f_bavail = remote_stats.blocks_available;
  stats->f_files = remote_stats.files;
  stats->f_ffree = remote_stats.files_free;
  stats->f_favail = remote_stats.files_available;
  stats->f_namemax = remote_stats.name_max;
  return 0;
}

void SftpFileSystem::NoteAdded(const std::string& path, int error) {
  if (error == 0) {
    cache_.Added(path);
  } else {
    cache_.Uncertain(path);  // what we believed may be wrong
  }
}

void SftpFileSystem::NoteRemoved(const std::string& path, int error) {
  if (error == 0) {
    cache_.Removed(path);
  } else {
    cache_.Uncertain(path);
  }
}

}  // namespace tp::telemount
