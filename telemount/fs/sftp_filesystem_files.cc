// SftpFileSystem's open files: open and create, reads with read-ahead, pipelined writes, flush,
// fsync and release.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

#include "sync/mutex.h"
#include "telemount/fs/mount_paths.h"
#include "telemount/fs/open_file.h"
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {

using sftp::FileAttributes;
using sftp::PacketType;
using sftp::PacketWriter;
using sftp::SftpReply;
using sftp::SftpSession;
using sftp::StatusCode;

namespace {

bool ChangedOnServer(const FileAttributes& before, const FileAttributes& now) {
  return before.size != now.size || before.mtime != now.mtime ||
         before.permissions != now.permissions;
}

}  // namespace

int SftpFileSystem::Open(const char* path, fuse_file_info* fi) { return Create(path, 0, fi); }

// The requests of one open on their way to the server.
struct SftpFileSystem::SentOpen {
  sftp::PendingReply opened;
  // The file's attributes and, after a create, its folder's, asked right behind the open.
  std::optional<sftp::PendingReply> stat, parent_stat;
  // A reader's first READ, naming the handle the server was predicted to give.
  std::optional<sftp::PendingReply> first_chunk;
  std::optional<std::string> predicted_handle;
  MetadataCache::FillTicket ticket;  // taken before the stats went out
};

SftpFileSystem::SentOpen SftpFileSystem::SendOpen(SftpSession& session, const std::string& remote,
                                                  int flags, mode_t mode) {
  const bool creating = (flags & O_CREAT) != 0;
  const bool truncating = (flags & O_TRUNC) != 0;
  const std::string parent = ParentOf(remote);
  FileAttributes attributes;
  if (creating) {
    attributes.flags = FileAttributes::kPermissions;
    attributes.permissions = mode & 07777;
  }
  SentOpen sent;
  SftpSession::Outgoing open_request;
  sent.opened = session.Prepare(
      PacketType::kOpen,
      [&](PacketWriter& w) {
        w.String(remote).U32(sftp::OpenFlagsFromPosix(flags)).Attributes(attributes);
      },
      &open_request);
  // The server answers in order, so the file's attributes as of its opening can ride along: the
  // stat that follows an open (cat's fstat, the kernel's after a create) then costs no round
  // trip, and attributes that the kernel keeps for longer are current at each open.
  std::vector<SftpSession::Outgoing> stat_requests(creating ? 2 : 1);
  const auto prepare_stats = [&] {
    sent.ticket = cache_.StartFill();
    sent.stat = session.Prepare(
        PacketType::kLstat, [&](PacketWriter& w) { w.String(remote); }, &stat_requests[0]);
    // So do the folder's after a create: the kernel asks for them before the next create in it
    // (the create made them stale; default_permissions checks the folder's modes).
    if (creating) {
      sent.parent_stat = session.Prepare(
          PacketType::kLstat, [&](PacketWriter& w) { w.String(parent); }, &stat_requests[1]);
    }
  };
  if (creating || truncating) {
    session.Transmit(open_request);
    // Noted once sent: whatever is asked from here on reaches the server after the open.
    cache_.Changed(remote);
    if (creating) cache_.Changed(parent);
    if (truncating) data_generations_.Bump(remote);
    prepare_stats();
    session.Transmit(stat_requests);
    return sent;
  }
  // Nothing changes: the stat goes in the open's batch, and so does a reader's first READ, naming
  // the handle the server is predicted to give (SftpSession::TransmitOpen). Its data is used only
  // if the prediction holds.
  prepare_stats();
  const bool reading = (flags & O_ACCMODE) == O_RDONLY;
  sent.predicted_handle = session.TransmitOpen(
      open_request, stat_requests,
      [&](const std::string& handle, std::vector<SftpSession::Outgoing>* follow) {
        if (!reading) return;
        sent.first_chunk = session.Prepare(
            PacketType::kRead, [&](PacketWriter& w) { w.String(handle).U64(0).U32(kReadChunk); },
            &follow->emplace_back());
      });
  return sent;
}

int SftpFileSystem::Create(const char* path, mode_t mode, fuse_file_info* fi) {
  if (IsFixed(path)) return PlaceOf(path) == Place::kVolumeRoot ? -EISDIR : -EPERM;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  const std::string remote = RemotePath(path);
  const bool creating = (fi->flags & O_CREAT) != 0;
  const bool truncating = (fi->flags & O_TRUNC) != 0;
  if (truncating) data_generations_.Bump(remote);
  // What the kernel may hold of the file (it got its attributes from this cache).
  const std::optional<FileAttributes> known = cache_.Attributes(remote);
  std::shared_ptr<DataGenerations::Counter> data_generation = data_generations_.ForPath(remote);
  const uint64_t generation_at_open = data_generation->load();
  SentOpen sent = SendOpen(*session, remote, fi->flags, mode);
  // The server answers in order: once the last has come, so have the others (one wake-up).
  const auto sent_at = std::chrono::steady_clock::now();
  session->AwaitReady(sent.parent_stat ? *sent.parent_stat : *sent.stat);
  const bool slow_link = std::chrono::steady_clock::now() - sent_at >= kSlowLink;
  SftpReply reply = session->Await(sent.opened);
  if (creating && reply.Errno(PacketType::kHandle) == 0) {
    cache_.NameAdded(remote);
  } else if (creating) {
    cache_.Uncertain(remote);
  }
  if (int failure = reply.Errno(PacketType::kHandle)) {
    cache_.Changed(remote);  // gone or changed on the server: ask again next time
    if (failure == EIO && reply.error == 0 && (fi->flags & O_EXCL)) {
      FileAttributes existing;
      if (Lstat(remote, &existing) == 0) return -EEXIST;
    }
    return -failure;
  }
  const auto keep_attributes = [&](std::optional<sftp::PendingReply>& pending,
                                   const std::string& of) -> std::optional<FileAttributes> {
    if (!pending) return std::nullopt;
    SftpReply stat_reply = session->Await(*pending);
    if (stat_reply.Errno(PacketType::kAttrs) != 0) return std::nullopt;
    FileAttributes fresh = stat_reply.Payload().Attributes();
    cache_.PutAttributes(of, fresh, sent.ticket);
    return fresh;
  };
  const std::optional<FileAttributes> fresh = keep_attributes(sent.stat, remote);
  keep_attributes(sent.parent_stat, ParentOf(remote));
  // Close-to-open: a file changed on the server since the kernel got its attributes has them
  // dropped there, so that reads go to the new end of the file.
  if (!creating && !truncating && known && fresh && ChangedOnServer(*known, *fresh)) {
    fuse_invalidate_path(fuse_get_context()->fuse, path);
  }
  auto file = std::make_unique<OpenFile>();
  file->session = session;
  file->handle = reply.Payload().String();
  file->remote_path = remote;
  file->timeout = connection_->options().request_timeout;
  file->data_generation = std::move(data_generation);
  file->slow_link = slow_link;
  file->wide_readers = &wide_readers_;
  // Not shared yet: the lock (uncontended) only tells the analysis so.
  SftpSession::Outgoing outgoing;
  {
    MutexLock lock(file->mutex);
    // A write through this mount since the open makes the first chunk stale (DropStaleChunks).
    file->chunks_generation = generation_at_open;
    // A file opened for reading is about to be read: its start is on its way, so the kernel's
    // first READ finds the data there (a small file costs one round trip in all).
    if (sent.first_chunk && sent.predicted_handle == file->handle) {
      file->chunks.emplace(0, sent.first_chunk->share());
    } else if ((fi->flags & O_ACCMODE) == O_RDONLY && !truncating) {
      file->chunks.emplace(0, file->PrepareChunk(0, &outgoing));
    }
  }
  session->Transmit(outgoing);  // nothing when nothing was prepared
  fi->fh = reinterpret_cast<uint64_t>(file.release());
  fi->direct_io = 0;
  fi->keep_cache = 0;
  // Nothing to report at close of a file that cannot be written: no FLUSH round trip.
  fi->noflush = (fi->flags & O_ACCMODE) == O_RDONLY;
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
    MutexLock lock(file->mutex);
    if (int failure = file->write_error) return -failure;
    file->DropStaleChunks();
    generation = file->chunks_generation;
    // A read that continues the last one grows the prefetch window; one that finds its chunk
    // already requested keeps it; any other read starts over.
    const bool continues = start == file->next_offset;
    if (continues && file->slow_link && file->TryWiden()) {
      file->window = kWideWindowChunks;
    } else if (continues) {
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
  file->session->Transmit(requests);

  // Where the file ends, as this read saw it (nothing to learn if it changed meanwhile).
  const auto note_end = [&](uint64_t index) {
    MutexLock lock(file->mutex);
    if (file->chunks_generation != generation) return;
    file->end_chunk_hint = index;
    file->chunks.erase(file->chunks.lower_bound(index), file->chunks.end());
  };
  // Chunks asked for in order arrive in order: wait once, for the last of them.
  if (needed.size() > 1) AwaitShared(*file->session, needed.back().second, file->timeout);
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
      MutexLock lock(file.mutex);
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
  file->wrote = true;
  {
    MutexLock lock(file->mutex);
    for (size_t done = 0; done < size;) {
      const size_t count = std::min(kWriteChunk, size - done);
      auto reply = file->session->Prepare(
          PacketType::kWrite,
          [&](PacketWriter& w) {
            w.String(file->handle)
                .U64(static_cast<uint64_t>(offset) + done)
                .TrailingBytes({reinterpret_cast<const uint8_t*>(buffer) + done, count});
          },
          &requests.emplace_back(), file->handle.size() + 16);
      file->writes.push_back({reply.share(), count});
      file->write_bytes_in_flight += count;
      done += count;
    }
  }
  file->session->Transmit(requests);
  // Sent: read-ahead and attributes asked for from now on see this write on the server.
  file->data_generation->fetch_add(1);
  cache_.Changed(file->remote_path);
  return static_cast<int>(size);
}

int SftpFileSystem::Flush(fuse_file_info* fi) {
  auto* file = reinterpret_cast<OpenFile*>(fi->fh);
  WaitForWrites(*file, 0);
  MutexLock lock(file->mutex);
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
  if (file->wrote) cache_.Changed(file->remote_path);
  // The server handles requests in order, so nobody needs to wait for the close.
  file->session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(file->handle); });
  return 0;
}

}  // namespace tp::telemount
