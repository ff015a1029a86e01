#include "sftp/sftp_protocol.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>

namespace tp::sftp {

PacketWriter::PacketWriter(PacketType type, size_t expected_size) {
  bytes_.reserve(expected_size + 5);
  bytes_.resize(4);  // length, patched by Finish()
  bytes_.push_back(static_cast<uint8_t>(type));
}

PacketWriter& PacketWriter::U8(uint8_t value) {
  bytes_.push_back(value);
  return *this;
}

PacketWriter& PacketWriter::U32(uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes_.push_back(static_cast<uint8_t>(value >> shift));
  return *this;
}

PacketWriter& PacketWriter::U64(uint64_t value) {
  U32(static_cast<uint32_t>(value >> 32));
  return U32(static_cast<uint32_t>(value));
}

PacketWriter& PacketWriter::String(std::string_view value) {
  return Bytes({reinterpret_cast<const uint8_t*>(value.data()), value.size()});
}

PacketWriter& PacketWriter::Bytes(std::span<const uint8_t> value) {
  U32(static_cast<uint32_t>(value.size()));
  bytes_.insert(bytes_.end(), value.begin(), value.end());
  return *this;
}

PacketWriter& PacketWriter::TrailingBytes(std::span<const uint8_t> value) {
  U32(static_cast<uint32_t>(value.size()));
  trailer_ = value;
  return *this;
}

PacketWriter& PacketWriter::Attributes(const FileAttributes& attributes) {
  const uint32_t flags = attributes.flags & ~FileAttributes::kExtended;
  U32(flags);
  if (flags & FileAttributes::kSize) U64(attributes.size);
  if (flags & FileAttributes::kUidGid) U32(attributes.uid).U32(attributes.gid);
  if (flags & FileAttributes::kPermissions) U32(attributes.permissions);
  if (flags & FileAttributes::kAccessModifyTime) U32(attributes.atime).U32(attributes.mtime);
  return *this;
}

std::vector<uint8_t> PacketWriter::Finish() && {
  const uint32_t length = static_cast<uint32_t>(bytes_.size() - 4 + trailer_.size());
  for (int i = 0; i < 4; ++i) bytes_[i] = static_cast<uint8_t>(length >> (24 - 8 * i));
  return std::move(bytes_);
}

bool PacketReader::Need(size_t count) {
  if (!ok_ || body_.size() - position_ < count) {
    ok_ = false;
    return false;
  }
  return true;
}

uint8_t PacketReader::U8() {
  if (!Need(1)) return 0;
  return body_[position_++];
}

uint32_t PacketReader::U32() {
  if (!Need(4)) return 0;
  uint32_t value = 0;
  for (int i = 0; i < 4; ++i) value = (value << 8) | body_[position_++];
  return value;
}

uint64_t PacketReader::U64() {
  const uint64_t high = U32();
  return (high << 32) | U32();
}

std::span<const uint8_t> PacketReader::StringBytes() {
  const uint32_t length = U32();
  if (!Need(length)) return {};
  auto view = body_.subspan(position_, length);
  position_ += length;
  return view;
}

std::string PacketReader::String() {
  auto view = StringBytes();
  return std::string(reinterpret_cast<const char*>(view.data()), view.size());
}

FileAttributes PacketReader::Attributes() {
  FileAttributes attributes;
  attributes.flags = U32();
  if (attributes.flags & FileAttributes::kSize) attributes.size = U64();
  if (attributes.flags & FileAttributes::kUidGid) {
    attributes.uid = U32();
    attributes.gid = U32();
  }
  if (attributes.flags & FileAttributes::kPermissions) attributes.permissions = U32();
  if (attributes.flags & FileAttributes::kAccessModifyTime) {
    attributes.atime = U32();
    attributes.mtime = U32();
  }
  if (attributes.flags & FileAttributes::kExtended) {
    const uint32_t count = U32();
    for (uint32_t i = 0; i < count && ok_; ++i) {
      StringBytes();  // type
      StringBytes();  // data
    }
  }
  return attributes;
}

std::vector<NameEntry> PacketReader::Names() {
  const uint32_t count = U32();
  std::vector<NameEntry> entries;
  // Each entry needs at least 12 bytes, so a lying count cannot make us allocate much.
  if (!ok_ || count > remaining() / 12) {
    ok_ = false;
    return entries;
  }
  entries.reserve(count);
  for (uint32_t i = 0; i < count && ok_; ++i) {
    NameEntry entry;
    entry.filename = String();
    entry.longname = String();
    entry.attributes = Attributes();
    entries.push_back(std::move(entry));
  }
  if (!ok_) entries.clear();
  return entries;
}

FileSystemStats PacketReader::StatVfs() {
  FileSystemStats stats;
  stats.block_size = U64();
  stats.fragment_size = U64();
  stats.blocks = U64();
  stats.blocks_free = U64();
  stats.blocks_available = U64();
  stats.files = U64();
  stats.files_free = U64();
  stats.files_available = U64();
  stats.fsid = U64();
  stats.flags = U64();
  stats.name_max = U64();
  return stats;
}

int StatusToErrno(StatusCode status) {
  switch (status) {
    case StatusCode::kOk:
    case StatusCode::kEof:
      return 0;
    case StatusCode::kNoSuchFile:
      return ENOENT;
    case StatusCode::kPermissionDenied:
      return EACCES;
    case StatusCode::kBadMessage:
      return EBADMSG;
    case StatusCode::kOpUnsupported:
      return EOPNOTSUPP;
    case StatusCode::kNoConnection:
    case StatusCode::kConnectionLost:
    case StatusCode::kFailure:
      return EIO;
  }
  return EIO;
}

uint32_t OpenFlagsFromPosix(int posix_flags) {
  uint32_t flags = 0;
  switch (posix_flags & O_ACCMODE) {
    case O_RDONLY:
      flags = kOpenRead;
      break;
    case O_WRONLY:
      flags = kOpenWrite;
      break;
    default:
      flags = kOpenRead | kOpenWrite;
  }
  if (posix_flags & O_APPEND) flags |= kOpenAppend;
  if (posix_flags & O_CREAT) flags |= kOpenCreate;
  if (posix_flags & O_TRUNC) flags |= kOpenTruncate;
  if (posix_flags & O_EXCL) flags |= kOpenExclusive;
  return flags;
}

std::string_view PacketTypeName(PacketType type) {
  switch (type) {
    case PacketType::kInit:
      return "INIT";
    case PacketType::kVersion:
      return "VERSION";
    case PacketType::kOpen:
      return "OPEN";
    case PacketType::kClose:
      return "CLOSE";
    case PacketType::kRead:
      return "READ";
    case PacketType::kWrite:
      return "WRITE";
    case PacketType::kLstat:
      return "LSTAT";
    case PacketType::kFstat:
      return "FSTAT";
    case PacketType::kSetstat:
      return "SETSTAT";
    case PacketType::kFsetstat:
      return "FSETSTAT";
    case PacketType::kOpendir:
      return "OPENDIR";
    case PacketType::kReaddir:
      return "READDIR";
    case PacketType::kRemove:
      return "REMOVE";
    case PacketType::kMkdir:
      return "MKDIR";
    case PacketType::kRmdir:
      return "RMDIR";
    case PacketType::kRealpath:
      return "REALPATH";
    case PacketType::kStat:
      return "STAT";
    case PacketType::kRename:
      return "RENAME";
    case PacketType::kReadlink:
      return "READLINK";
    case PacketType::kSymlink:
      return "SYMLINK";
    case PacketType::kStatus:
      return "STATUS";
    case PacketType::kHandle:
      return "HANDLE";
    case PacketType::kData:
      return "DATA";
    case PacketType::kName:
      return "NAME";
    case PacketType::kAttrs:
      return "ATTRS";
    case PacketType::kExtended:
      return "EXTENDED";
    case PacketType::kExtendedReply:
      return "EXTENDED_REPLY";
  }
  return "UNKNOWN";
}

}  // namespace tp::sftp
