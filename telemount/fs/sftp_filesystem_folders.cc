// SftpFileSystem's folders: open, list (pipelined READDIRs, feeding the caches), release, and
// whether a folder has entries.
#include <atomic>
#include <cerrno>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "telemount/fs/mount_paths.h"
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {

using sftp::FileAttributes;
using sftp::PacketType;
using sftp::PacketWriter;
using sftp::SftpReply;
using sftp::SftpSession;
using sftp::StatusCode;

namespace {

// READDIRs sent together: OpenSSH's sftp-server answers each with up to 100 names, so one batch
// lists most folders, and a larger folder takes a batch per 800 names.
constexpr int kReaddirBatch = 8;

// Prepares a batch of READDIRs of `handle` into `requests`; returns their replies.
std::vector<sftp::PendingReply> PrepareReaddirBatch(SftpSession& session, const std::string& handle,
                                                    std::vector<SftpSession::Outgoing>* requests) {
  std::vector<sftp::PendingReply> replies;
  replies.reserve(kReaddirBatch);
  for (int i = 0; i < kReaddirBatch; ++i) {
    replies.push_back(session.Prepare(
        PacketType::kReaddir, [&](PacketWriter& w) { w.String(handle); },
        &requests->emplace_back()));
  }
  return replies;
}

std::vector<sftp::PendingReply> SendReaddirBatch(SftpSession& session, const std::string& handle) {
  std::vector<SftpSession::Outgoing> requests;
  requests.reserve(kReaddirBatch);
  std::vector<sftp::PendingReply> replies = PrepareReaddirBatch(session, handle, &requests);
  session.Transmit(requests);
  return replies;
}

}  // namespace

// The kernel never runs two READDIRs of one open folder at once (fuse's readdir lock), so its
// state needs no lock; `busy` turns a breach of that promise into EBUSY rather than a race. The
// folder is opened on the server when it is first listed (`handle` empty until then).
struct SftpFileSystem::OpenDirectoryHandle {
  std::shared_ptr<SftpSession> session;
  std::string handle;
  std::string remote_path;
  std::atomic<bool> busy{false};
  bool listed = false;
  std::vector<sftp::NameEntry> entries;  // the whole listing, once read
};

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

int SftpFileSystem::OpenDirectory(const char* path, fuse_file_info* fi) {
  if (PlaceOf(path) == Place::kVolumesFolder) return -EACCES;
  int error;
  auto session = Session(&error);
  if (!session) return -error;
  // Nothing goes to the server yet: the folder is opened with its first listing, in the same
  // round trip (OpenOnServer). A folder that cannot be opened there (its modes, gone since the
  // kernel's lookup) fails the first readdir instead of the opendir.
  auto directory = std::make_unique<OpenDirectoryHandle>();
  directory->session = session;
  directory->remote_path = RemotePath(path);
  fi->fh = reinterpret_cast<uint64_t>(directory.release());
  return 0;
}

int SftpFileSystem::OpenOnServer(OpenDirectoryHandle& directory,
                                 std::vector<sftp::PendingReply>* first_batch) {
  SftpSession& session = *directory.session;
  SftpSession::Outgoing open_request;
  sftp::PendingReply opened = session.Prepare(
      PacketType::kOpendir, [&](PacketWriter& w) { w.String(directory.remote_path); },
      &open_request);
  // The first batch names the handle the server is predicted to give (SftpSession::TransmitOpen).
  const std::optional<std::string> predicted = session.TransmitOpen(
      open_request, {}, [&](const std::string& handle, std::vector<SftpSession::Outgoing>* follow) {
        *first_batch = PrepareReaddirBatch(session, handle, follow);
      });
  // The server answers in order: once the batch's last reply has come, so has the open's.
  if (!first_batch->empty()) session.AwaitReady(first_batch->back());
  SftpReply reply = session.Await(opened);
  if (int failure = reply.Errno(PacketType::kHandle)) return failure;
  directory.handle = reply.Payload().String();
  if (predicted != directory.handle) first_batch->clear();  // those went to no open folder
  return 0;
}

int SftpFileSystem::ListDirectory(OpenDirectoryHandle& directory) {
  SftpSession& session = *directory.session;
  // Listed when the kernel asks, not ahead: the kernel drops attributes that a READDIRPLUS
  // brings if the file changed after it sent the request, which only holds for answers the
  // server gave after that.
  const auto ticket = cache_.StartFill();
  std::vector<sftp::PendingReply> batch;
  if (directory.handle.empty()) {
    if (int failure = OpenOnServer(directory, &batch)) return -failure;
  }
  // Batch after batch: the server answers in order, names until an EOF (or an error), which
  // also answers the rest of its batch.
  for (bool finished = false; !finished; batch.clear()) {
    if (batch.empty()) batch = SendReaddirBatch(session, directory.handle);
    session.AwaitReady(batch.back());
    for (auto& pending : batch) {
      SftpReply reply = session.Await(pending);
      if (finished) continue;
      if (reply.error == 0 && reply.type() == PacketType::kStatus &&
          reply.Status() == StatusCode::kEof) {
        finished = true;
      } else if (int failure = reply.Errno(PacketType::kName)) {
        return -failure;
      } else {
        for (auto& entry : reply.Payload().Names()) directory.entries.push_back(std::move(entry));
      }
    }
  }
  cache_.PutListing(directory.remote_path, directory.entries, ticket);
  return 0;
}

void SftpFileSystem::RefreshListing(const std::string& folder) {
  int error;
  auto session = Session(&error);
  if (!session) return;
  OpenDirectoryHandle directory;
  directory.session = session;
  directory.remote_path = folder;
  ListDirectory(directory);
  CloseOnServer(directory);
}

void SftpFileSystem::CloseOnServer(const OpenDirectoryHandle& directory) {
  if (directory.handle.empty()) return;
  directory.session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(directory.handle); });
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
    // A rewound folder is listed afresh: its handle on the server is at its end.
    if (directory->listed) {
      CloseOnServer(*directory);
      directory->handle.clear();
    }
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
  CloseOnServer(*directory);
  return 0;
}

}  // namespace tp::telemount
