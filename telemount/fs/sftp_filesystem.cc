#include "telemount/fs/sftp_filesystem.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>

namespace tp::telemount {

using sftp::FileAttributes;
using sftp::PacketType;
using sftp::PacketWriter;
using sftp::SftpReply;
using sftp::SftpSession;
using sftp::StatusCode;

namespace {

constexpr uint64_t kReadChunk = 192 * 1024;     // one READ request (OpenSSH serves up to 255 KiB)
constexpr size_t kMinWindowChunks = 4;          // prefetch once a reader is sequential
constexpr size_t kMaxWindowChunks = 32;         // 6 MiB ahead at most
constexpr size_t kWriteChunk = 192 * 1024;      // one WRITE request
constexpr size_t kMaxWriteInFlight = 16 << 20;  // bytes written but not yet acknowledged
constexpr int kReaddirInFlight = 8;

SftpFileSystem& Self() { return *static_cast<SftpFileSystem*>(fuse_get_context()->private_data); }

void ToStat(const FileAttributes& attributes, struct stat* st) {
  std::memset(st, 0, sizeof(*st));
  st->st_mode = attributes.permissions;
  st->st_nlink = S_ISDIR(attributes.permissions) ? 2 : 1;
  st->st_uid = attributes.uid;
  st->st_gid = attributes.gid;
  st->st_size = static_cast<off_t>(attributes.size);
  st->st_blksize = 128 * 1024;
  st->st_blocks = static_cast<blkcnt_t>((attributes.size + 511) / 512);
  st->st_atim.tv_sec = attributes.atime;
  st->st_mtim.tv_sec = attributes.mtime;
  st->st_ctim.tv_sec = attributes.mtime;
}

// Where a mount path lies with respect to the hidden folder of volume roots.
enum class Place { kOrdinary, kVolumesFolder, kVolumeRoot, kInsideVolume };

Place PlaceOf(std::string_view path) {
  if (!path.starts_with(kVolumesFolder)) return Place::kOrdinary;
  const std::string_view rest = path.substr(kVolumesFolder.size());
  if (rest.empty()) return Place::kVolumesFolder;
  if (rest.front() != '/') return Place::kOrdinary;  // "/.telemount-volumesX"
  if (rest.size() == 1) return Place::kVolumesFolder;
  return rest.find('/', 1) == std::string_view::npos ? Place::kVolumeRoot : Place::kInsideVolume;
}

// Neither the hidden folder nor a volume root may be made, removed or renamed through the mount.
bool IsFixed(const char* path) {
  const Place place = PlaceOf(path);
  return place == Place::kVolumesFolder || place == Place::kVolumeRoot;
}

std::string DecodeVolumeRootName(std::string_view name) {
  std::string folder;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name.substr(i, 3) == "%2F") {
      folder += '/';
      i += 2;
    } else if (name.substr(i, 3) == "%25") {
      folder += '%';
      i += 2;
    } else {
      folder += name[i];
    }
  }
  if (folder.empty() || folder.front() != '/') folder.insert(folder.begin(), '/');
  return folder;
}

std::string ParentOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

// Waits for a shared reply within the session's deadline; a timeout breaks the session.
const SftpReply& AwaitShared(SftpSession& session, const std::shared_future<SftpReply>& reply,
                             std::chrono::milliseconds timeout) {
  if (reply.wait_for(timeout) != std::future_status::ready) {
    session.Break("no reply within " + std::to_string(timeout.count()) + " ms");
  }
  return reply.get();
}

}  // namespace

// State of one open file. The session is the one the handle belongs to: after a reconnect it is
// broken, and so every later operation on this handle fails with EIO.
struct SftpFileSystem::OpenFile {
  struct PendingWrite {
    std::shared_future<SftpReply> reply;
    size_t bytes;
  };

  std::shared_ptr<SftpSession> session;
  std::string handle;
  std::string remote_path;
  std::chrono::milliseconds timeout;
  // Moves with every change of the file's contents made through this mount (DataGenerations).
  std::shared_ptr<DataGenerations::Counter> data_generation;

  // Guards the members below; never held across a send or a wait.
  std::mutex mutex;
  // Read-ahead: chunk index -> its READ request, all asked for at `chunks_generation`.
  std::map<uint64_t, std::shared_future<SftpReply>> chunks;
  uint64_t chunks_generation = 0;
  uint64_t next_offset = UINT64_MAX;  // nothing read yet: the first read prefetches nothing
  size_t window = 0;
  uint64_t end_chunk_hint = UINT64_MAX;  // the chunk where the file ended when last seen
  // Pipelined writes.
  std::deque<PendingWrite> writes;
  size_t write_bytes_in_flight = 0;
  int write_error = 0;

  // Registers the READ of chunk `index`; the caller transmits `outgoing` after unlocking.
  std::shared_future<SftpReply> PrepareChunk(uint64_t index, SftpSession::Outgoing* outgoing) {
    return session
        ->Prepare(
            PacketType::kRead,
            [&](PacketWriter& writer) {
              writer.String(handle).U64(index * kReadChunk).U32(kReadChunk);
            },
            outgoing)
        .share();
  }
  // Drops the read-ahead when the file changed since it was asked for. Requires mutex.
  void DropStaleChunks() {
    const uint64_t now = data_generation->load();
    if (now == chunks_generation) return;
    chunks.clear();
    window = 0;
    end_chunk_hint = UINT64_MAX;
    chunks_generation = now;
  }
  // Takes the acknowledged writes off the queue, keeping the first error. Requires mutex.
  void ReapAcknowledgedWrites() {
    while (!writes.empty() &&
           writes.front().reply.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      if (int failure = writes.front().reply.get().Errno(); failure != 0 && write_error == 0) {
        write_error = failure;
      }
      write_bytes_in_flight -= writes.front().bytes;
      writes.pop_front();
    }
  }
};

// The kernel never runs two READDIRs of one open folder at once (fuse's readdir lock), so its
// state needs no lock; `busy` turns a breach of that promise into EBUSY rather than a race.
struct SftpFileSystem::OpenDirectoryHandle {
  std::shared_ptr<SftpSession> session;
  std::string handle;
  std::string remote_path;
  std::atomic<bool> busy{false};
  bool listed = false;
  std::vector<sftp::NameEntry> entries;  // the whole listing, once read
};

SftpFileSystem::SftpFileSystem(std::shared_ptr<sftp::SftpConnection> connection,
                               std::string remote_root, std::chrono::milliseconds cache_timeout)
    : connection_(std::move(connection)),
      remote_root_(remote_root == "/" ? "" : std::move(remote_root)),
      cache_timeout_(cache_timeout),
      cache_(cache_timeout) {}

std::string SftpFileSystem::RemotePath(const char* path) const {
  std::string_view view(path);
  const Place place = PlaceOf(view);
  if (place == Place::kVolumeRoot || place == Place::kInsideVolume) {
    const std::string_view rest = view.substr(kVolumesFolder.size() + 1);
    const size_t slash = rest.find('/');
    std::string folder = DecodeVolumeRootName(rest.substr(0, slash));
    if (slash != std::string_view::npos) {
      if (folder == "/") folder.clear();
      folder += rest.substr(slash);
    }
    return remote_root_ + (remote_root_.empty() || folder != "/" ? folder : "");
  }
  if (remote_root_.empty()) return path;
  if (std::strcmp(path, "/") == 0) return remote_root_;
  return remote_root_ + path;
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

bool SftpFileSystem::DirectoryHasEntries(const std::string& remote) {
  int error;
  auto session = Session(&error);
  if (!session) return false;
  SftpReply opened =
      session->Call(PacketType::kOpendir, [&](PacketWriter& w) { w.String(remote); });
  if (opened.Errno(PacketType::kHandle) != 0) return false;
  const std::string handle = opened.Payload().String();
  bool has_entries = false;
  for (;;) {
    SftpReply batch =
        session->Call(PacketType::kReaddir, [&](PacketWriter& w) { w.String(handle); });
    if (batch.Errno(PacketType::kName) != 0) break;
    for (const auto& entry : batch.Payload().Names()) {
      if (entry.filename != "." && entry.filename != "..") has_entries = true;
    }
    if (has_entries) break;
  }
  session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(handle); });
  return has_entries;
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

int SftpFileSystem::Open(const char* path, fuse_file_info* fi) { return Create(path, 0, fi); }

int SftpFileSystem::Create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (IsFixed(path)) return PlaceOf(path) == Place::kVolumeRoot ? -EISDIR : -EPERM;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const std::string remote = RemotePath(path);
  const bool creating = (fi->flags & O_CREAT) != 0;
  const bool truncating = (fi->flags & O_TRUNC) != 0;
  const std::string parent = ParentOf(remote);
  FileAttributes attributes;
  if (creating) {
    attributes.flags = FileAttributes::kPermissions;
    attributes.permissions = mode & 07777;
  }
  if (truncating) data_generations_.Bump(remote);
  auto opened = session->Send(PacketType::kOpen, [&](PacketWriter& w) {
    w.String(remote).U32(sftp::OpenFlagsFromPosix(fi->flags)).Attributes(attributes);
  });
  // Noted once sent: whatever is asked from here on reaches the server after the open.
  cache_.Changed(remote);
  if (creating) cache_.Changed(parent);
  if (truncating) data_generations_.Bump(remote);
  const auto ticket = cache_.StartFill();
  // The server answers in order, so the attributes of the new file can ride along: the stat
  // the kernel sends right after a create then costs no round trip.
  std::optional<sftp::PendingReply> stat;
  std::optional<sftp::PendingReply> parent_stat;
  if (creating) {
    stat = session->Send(PacketType::kLstat, [&](PacketWriter& w) { w.String(remote); });
    // So does the folder's: the kernel asks for it before the next create in it (the create
    // made it stale; default_permissions checks the folder's modes), which then costs no
    // round trip either.
    parent_stat = session->Send(PacketType::kLstat, [&](PacketWriter& w) { w.String(parent); });
  }
  SftpReply reply = session->Await(opened);
  if (creating && reply.Errno(PacketType::kHandle) == 0) {
    cache_.NameAdded(remote);
  } else if (creating) {
    cache_.Uncertain(remote);
  }
  if (int failure = reply.Errno(PacketType::kHandle)) {
    if (failure == EIO && reply.error == 0 && (fi->flags & O_EXCL)) {
      FileAttributes existing;
      if (Lstat(remote, &existing) == 0) return -EEXIST;
    }
    return -failure;
  }
  const auto keep_attributes = [&](std::optional<sftp::PendingReply>& pending,
                                   const std::string& of) {
    if (!pending) return;
    SftpReply stat_reply = session->Await(*pending);
    if (stat_reply.Errno(PacketType::kAttrs) == 0) {
      cache_.PutAttributes(of, stat_reply.Payload().Attributes(), ticket);
    }
  };
  keep_attributes(stat, remote);
  keep_attributes(parent_stat, parent);
  auto file = std::make_unique<OpenFile>();
  file->session = session;
  file->handle = reply.Payload().String();
  file->remote_path = remote;
  file->timeout = connection_->options().request_timeout;
  file->data_generation = data_generations_.ForPath(remote);
  file->chunks_generation = file->data_generation->load();
  // A file opened for reading is about to be read: ask for its start now, so the kernel's
  // first READ finds the data on its way (one round trip less for small files).
  if ((fi->flags & O_ACCMODE) == O_RDONLY && !truncating) {
    SftpSession::Outgoing outgoing;
    file->chunks.emplace(0, file->PrepareChunk(0, &outgoing));
    session->Transmit(outgoing);
  }
  fi->fh = reinterpret_cast<uint64_t>(file.release());
  fi->direct_io = 0;
  fi->keep_cache = 0;
  return 0;
}

int SftpFileSystem::Read(char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (size == 0) return 0;
  const uint64_t start = static_cast<uint64_t>(offset);
  const uint64_t first = start / kReadChunk;
  const uint64_t last = (start + size - 1) / kReadChunk;
  std::vector<std::pair<uint64_t, std::shared_future<SftpReply>>> needed;
  std::vector<SftpSession::Outgoing> requests;
  uint64_t generation;
  {
    std::lock_guard lock(file->mutex);
    if (int failure = file->write_error) return -failure;
    file->DropStaleChunks();
    generation = file->chunks_generation;
    // A read that continues the last one grows the prefetch window; one that finds its chunk
    // already requested keeps it; any other read starts over.
    const bool continues = start == file->next_offset;
    if (continues) {
      file->window = std::clamp(file->window * 2, kMinWindowChunks, kMaxWindowChunks);
    } else if (file->chunks.count(first) == 0) {
      file->chunks.clear();
      file->window = 0;
      file->end_chunk_hint = UINT64_MAX;
    }
    file->chunks.erase(file->chunks.begin(), file->chunks.lower_bound(first));
    const uint64_t prefetch_end = std::min(last + file->window, file->end_chunk_hint);
    for (uint64_t index = first; index <= std::max(last, prefetch_end); ++index) {
      if (file->chunks.count(index)) continue;
      file->chunks.emplace(index, file->PrepareChunk(index, &requests.emplace_back()));
    }
    for (uint64_t index = first; index <= last; ++index) {
      needed.emplace_back(index, file->chunks.at(index));
    }
    file->next_offset = start + size;
  }
  for (const auto& request : requests) file->session->Transmit(request);

  // Where the file ends, as this read saw it (nothing to learn if it changed meanwhile).
  const auto note_end = [&](uint64_t index) {
    std::lock_guard lock(file->mutex);
    if (file->chunks_generation != generation) return;
    file->end_chunk_hint = index;
    file->chunks.erase(file->chunks.lower_bound(index), file->chunks.end());
  };
  size_t copied = 0;
  for (auto& [index, pending] : needed) {
    const SftpReply& reply = AwaitShared(*file->session, pending, file->timeout);
    const uint64_t chunk_start = index * kReadChunk;
    if (reply.error == 0 && reply.type() == PacketType::kStatus &&
        reply.Status() == StatusCode::kEof) {
      note_end(index);
      break;
    }
    if (int failure = reply.Errno(PacketType::kData)) return -failure;
    auto data = reply.Payload().StringBytes();
    const uint64_t skip = start > chunk_start ? start - chunk_start : 0;
    if (skip < data.size()) {
      const size_t count = std::min<size_t>(data.size() - skip, size - copied);
      std::memcpy(buffer + copied, data.data() + skip, count);
      copied += count;
    }
    if (data.size() < kReadChunk) {
      // The file ends here (for now): don't keep this chunk, a later read must ask again.
      note_end(index);
      break;
    }
  }
  return static_cast<int>(copied);
}

int SftpFileSystem::WaitForWrites(OpenFile& file, size_t keep_in_flight_bytes) {
  for (;;) {
    std::shared_future<SftpReply> oldest;
    {
      std::lock_guard lock(file.mutex);
      file.ReapAcknowledgedWrites();
      if (file.writes.empty() || file.write_bytes_in_flight <= keep_in_flight_bytes) {
        return file.write_error;
      }
      oldest = file.writes.front().reply;
    }
    AwaitShared(*file.session, oldest, file.timeout);  // ready, or the session broke (EIO)
  }
}

int SftpFileSystem::Write(const char* buffer, size_t size, off_t offset, fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (int failure = WaitForWrites(*file, kMaxWriteInFlight)) return -failure;
  if (file->session->broken()) return -EIO;
  std::vector<SftpSession::Outgoing> requests;
  file->data_generation->fetch_add(1);
  {
    std::lock_guard lock(file->mutex);
    for (size_t done = 0; done < size;) {
      const size_t count = std::min(kWriteChunk, size - done);
      auto reply = file->session->Prepare(
          PacketType::kWrite,
          [&](PacketWriter& w) {
            w.String(file->handle)
                .U64(static_cast<uint64_t>(offset) + done)
                .Bytes({reinterpret_cast<const uint8_t*>(buffer) + done, count});
          },
          &requests.emplace_back(), count + file->handle.size() + 16);
      file->writes.push_back({reply.share(), count});
      file->write_bytes_in_flight += count;
      done += count;
    }
  }
  for (const auto& request : requests) file->session->Transmit(request);
  // Sent: read-ahead and attributes asked for from now on see this write on the server.
  file->data_generation->fetch_add(1);
  cache_.Changed(file->remote_path);
  return static_cast<int>(size);
}

int SftpFileSystem::Flush(fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  WaitForWrites(*file, 0);
  std::lock_guard lock(file->mutex);
  return -std::exchange(file->write_error, 0);  // reported once, like close(2)
}

int SftpFileSystem::Fsync(fuse_file_info* fi) {
  if (int result = Flush(fi)) return result;
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  if (!file->session->HasExtension("fsync@openssh.com")) return 0;
  auto pending = file->session->SendExtended("fsync@openssh.com",
                                             [&](PacketWriter& w) { w.String(file->handle); });
  return -file->session->Await(pending).Errno();
}

int SftpFileSystem::Release(fuse_file_info* fi) {
  std::unique_ptr<OpenFile> file(reinterpret_cast<OpenFile*>(fi->fh));
  fi->fh = 0;
  if (WaitForWrites(*file, 0) != 0) {
    spdlog::warn("write to {} failed after its last flush", file->remote_path);
  }
  cache_.Changed(file->remote_path);
  // The server handles requests in order, so nobody needs to wait for the close.
  file->session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(file->handle); });
  return 0;
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

int SftpFileSystem::OpenDirectory(const char* path, fuse_file_info* fi) {
  if (PlaceOf(path) == Place::kVolumesFolder) return -EACCES;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const std::string remote = RemotePath(path);
  SftpReply reply = session->Call(PacketType::kOpendir, [&](PacketWriter& w) { w.String(remote); });
  if (int failure = reply.Errno(PacketType::kHandle)) return -failure;
  auto directory = std::make_unique<OpenDirectoryHandle>();
  directory->session = session;
  directory->handle = reply.Payload().String();
  directory->remote_path = remote;
  fi->fh = reinterpret_cast<uint64_t>(directory.release());
  return 0;
}

int SftpFileSystem::ListDirectory(OpenDirectoryHandle& directory) {
  SftpSession& session = *directory.session;
  const auto ticket = cache_.StartFill();
  auto request = [&] {
    return session.Send(PacketType::kReaddir, [&](PacketWriter& w) { w.String(directory.handle); });
  };
  // Several READDIRs in flight: the server answers them in order, batch after batch.
  std::deque<sftp::PendingReply> in_flight;
  for (int i = 0; i < kReaddirInFlight; ++i) in_flight.push_back(request());
  bool finished = false;
  int result = 0;
  while (!in_flight.empty()) {
    SftpReply reply = session.Await(in_flight.front());
    in_flight.pop_front();
    if (finished) continue;  // drain the extra requests
    if (reply.error == 0 && reply.type() == PacketType::kStatus &&
        reply.Status() == StatusCode::kEof) {
      finished = true;
      continue;
    }
    if (int failure = reply.Errno(PacketType::kName)) {
      result = -failure;
      finished = true;
      continue;
    }
    for (auto& entry : reply.Payload().Names()) directory.entries.push_back(std::move(entry));
    in_flight.push_back(request());
  }
  if (result == 0) cache_.PutListing(directory.remote_path, directory.entries, ticket);
  return result;
}

void SftpFileSystem::RefreshListing(const std::string& folder) {
  int error;
  auto session = Session(&error);
  if (!session) return;
  SftpReply opened =
      session->Call(PacketType::kOpendir, [&](PacketWriter& w) { w.String(folder); });
  if (opened.Errno(PacketType::kHandle) != 0) return;
  OpenDirectoryHandle directory;
  directory.session = session;
  directory.handle = opened.Payload().String();
  directory.remote_path = folder;
  ListDirectory(directory);
  session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(directory.handle); });
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

int SftpFileSystem::ReadDirectory(const char*, void* buffer, fuse_fill_dir_t filler, off_t offset,
                                  fuse_file_info* fi, fuse_readdir_flags flags) {
  auto* directory = reinterpret_cast<OpenDirectoryHandle*>(fi->fh);
  if (directory->busy.exchange(true)) return -EBUSY;
  const struct Done {
    std::atomic<bool>& busy;
    ~Done() { busy = false; }
  } done{directory->busy};
  if (!directory->listed || offset == 0) {
    directory->entries.clear();
    if (int result = ListDirectory(*directory)) return result;
    directory->listed = true;
  }
  // Entries go out with their position as offset: that is what lets libfuse pass their
  // attributes to the kernel (READDIRPLUS), so that `ls -l` needs no lookup per file.
  const bool plus = (flags & FUSE_READDIR_PLUS) != 0;
  for (size_t index = static_cast<size_t>(offset); index < directory->entries.size(); ++index) {
    const sftp::NameEntry& entry = directory->entries[index];
    struct stat st;
    ToStat(entry.attributes, &st);
    // "." and ".." go without attributes: libfuse gives them inode 0 otherwise, and
    // readdir(3) hides entries with inode 0.
    const bool dots = entry.filename == "." || entry.filename == "..";
    const auto fill_flags =
        plus && !dots ? FUSE_FILL_DIR_PLUS : static_cast<fuse_fill_dir_flags>(0);
    if (filler(buffer, entry.filename.c_str(), &st, static_cast<off_t>(index + 1), fill_flags)) {
      break;  // the kernel's buffer is full; it asks again from this offset
    }
  }
  return 0;
}

int SftpFileSystem::ReleaseDirectory(fuse_file_info* fi) {
  std::unique_ptr<OpenDirectoryHandle> directory(reinterpret_cast<OpenDirectoryHandle*>(fi->fh));
  fi->fh = 0;
  directory->session->Send(PacketType::kClose,
                           [&](PacketWriter& w) { w.String(directory->handle); });
  return 0;
}

namespace {

void* Init(fuse_conn_info* connection, fuse_config* config) {
  SftpFileSystem& self = Self();
  const double cache_seconds = self.cache_timeout().count() / 1000.0;
  config->use_ino = 0;
  config->nullpath_ok = 1;
  config->hard_remove = 1;  // unlink really unlinks; open handles keep working on the server
  config->attr_timeout = cache_seconds;
  config->entry_timeout = cache_seconds;
  config->negative_timeout = 0;
  config->kernel_cache = 0;
  config->auto_cache = 0;
  connection->max_write = 1024 * 1024;
  connection->max_readahead = 4 * 1024 * 1024;
  connection->max_background = 64;
  connection->congestion_threshold = 48;
  connection->want |= FUSE_CAP_ASYNC_READ;
  return &self;
}

const fuse_operations kOperations = [] {
  fuse_operations ops{};
  ops.init = Init;
  ops.getattr = [](const char* p, struct stat* s, fuse_file_info* f) {
    return Self().GetAttr(p, s, f);
  };
  ops.readlink = [](const char* p, char* b, size_t n) { return Self().ReadLink(p, b, n); };
  ops.mkdir = [](const char* p, mode_t m) { return Self().MakeDirectory(p, m); };
  ops.unlink = [](const char* p) { return Self().Unlink(p); };
  ops.rmdir = [](const char* p) { return Self().RemoveDirectory(p); };
  ops.symlink = [](const char* t, const char* p) { return Self().Symlink(t, p); };
  ops.rename = [](const char* f, const char* t, unsigned int fl) {
    return Self().Rename(f, t, fl);
  };
  ops.link = [](const char* f, const char* t) { return Self().Link(f, t); };
  ops.chmod = [](const char* p, mode_t m, fuse_file_info* f) { return Self().Chmod(p, m, f); };
  ops.chown = [](const char* p, uid_t u, gid_t g, fuse_file_info* f) {
    return Self().Chown(p, u, g, f);
  };
  ops.truncate = [](const char* p, off_t s, fuse_file_info* f) { return Self().Truncate(p, s, f); };
  ops.open = [](const char* p, fuse_file_info* f) { return Self().Open(p, f); };
  ops.create = [](const char* p, mode_t m, fuse_file_info* f) { return Self().Create(p, m, f); };
  ops.read = [](const char*, char* b, size_t n, off_t o, fuse_file_info* f) {
    return Self().Read(b, n, o, f);
  };
  ops.write = [](const char*, const char* b, size_t n, off_t o, fuse_file_info* f) {
    return Self().Write(b, n, o, f);
  };
  ops.statfs = [](const char* p, struct statvfs* s) { return Self().StatFs(p, s); };
  ops.flush = [](const char*, fuse_file_info* f) { return Self().Flush(f); };
  ops.release = [](const char*, fuse_file_info* f) { return Self().Release(f); };
  ops.fsync = [](const char*, int, fuse_file_info* f) { return Self().Fsync(f); };
  ops.opendir = [](const char* p, fuse_file_info* f) { return Self().OpenDirectory(p, f); };
  ops.readdir = [](const char* p, void* b, fuse_fill_dir_t fill, off_t o, fuse_file_info* f,
                   fuse_readdir_flags fl) { return Self().ReadDirectory(p, b, fill, o, f, fl); };
  ops.releasedir = [](const char*, fuse_file_info* f) { return Self().ReleaseDirectory(f); };
  ops.fsyncdir = [](const char*, int, fuse_file_info*) { return 0; };
  ops.utimens = [](const char* p, const timespec t[2], fuse_file_info* f) {
    return Self().Utimens(p, t, f);
  };
  return ops;
}();

}  // namespace

const fuse_operations& SftpFileSystem::Operations() { return kOperations; }

}  // namespace tp::telemount
