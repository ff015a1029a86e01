// The SFTP version 3 wire format (draft-ietf-secsh-filexfer-02) plus the OpenSSH extensions we
// use. Pure encode/decode over byte buffers: no I/O, no global state, every read bounds-checked.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tp::sftp {

inline constexpr uint32_t kProtocolVersion = 3;
// Largest packet we accept from a server; OpenSSH sends at most 256 KiB.
inline constexpr uint32_t kMaxPacketLength = 1024 * 1024;

enum class PacketType : uint8_t {
  kInit = 1,
  kVersion = 2,
  kOpen = 3,
  kClose = 4,
  kRead = 5,
  kWrite = 6,
  kLstat = 7,
  kFstat = 8,
  kSetstat = 9,
  kFsetstat = 10,
  kOpendir = 11,
  kReaddir = 12,
  kRemove = 13,
  kMkdir = 14,
  kRmdir = 15,
  kRealpath = 16,
  kStat = 17,
  kRename = 18,
  kReadlink = 19,
  kSymlink = 20,
  kStatus = 101,
  kHandle = 102,
  kData = 103,
  kName = 104,
  kAttrs = 105,
  kExtended = 200,
  kExtendedReply = 201,
};

enum class StatusCode : uint32_t {
  kOk = 0,
  kEof = 1,
  kNoSuchFile = 2,
  kPermissionDenied = 3,
  kFailure = 4,
  kBadMessage = 5,
  kNoConnection = 6,
  kConnectionLost = 7,
  kOpUnsupported = 8,
};

// SSH_FXF_* flags of OPEN.
enum OpenFlag : uint32_t {
  kOpenRead = 0x01,
  kOpenWrite = 0x02,
  kOpenAppend = 0x04,
  kOpenCreate = 0x08,
  kOpenTruncate = 0x10,
  kOpenExclusive = 0x20,
};

// File attributes; `flags` says which fields are present (SSH_FILEXFER_ATTR_*).
struct FileAttributes {
  static constexpr uint32_t kSize = 0x01;
  static constexpr uint32_t kUidGid = 0x02;
  static constexpr uint32_t kPermissions = 0x04;
  static constexpr uint32_t kAccessModifyTime = 0x08;
  static constexpr uint32_t kExtended = 0x80000000;

  uint32_t flags = 0;
  uint64_t size = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint32_t permissions = 0;  // st_mode: type and permission bits
  uint32_t atime = 0;
  uint32_t mtime = 0;

  bool operator==(const FileAttributes&) const = default;
};

// Reply of statvfs@openssh.com.
struct FileSystemStats {
  uint64_t block_size = 0, fragment_size = 0, blocks = 0, blocks_free = 0, blocks_available = 0;
  uint64_t files = 0, files_free = 0, files_available = 0, fsid = 0, flags = 0, name_max = 0;
};

struct NameEntry {
  std::string filename;
  std::string longname;
  FileAttributes attributes;
};

// Builds one packet: the 4-byte length, the type, then fields in call order. Finish() patches the
// length and hands the bytes over.
class PacketWriter {
 public:
  explicit PacketWriter(PacketType type, size_t expected_size = 64);
  PacketWriter& U8(uint8_t value);
  PacketWriter& U32(uint32_t value);
  PacketWriter& U64(uint64_t value);
  PacketWriter& String(std::string_view value);
  PacketWriter& Bytes(std::span<const uint8_t> value);  // as an SFTP string (length + bytes)
  // Ends the packet with `value` as an SFTP string whose bytes are not copied: Finish() counts
  // them in the length but leaves them out, and whoever sends the packet sends trailer() after
  // it (a WRITE's data goes from the caller's buffer to the socket). Nothing may follow it.
  PacketWriter& TrailingBytes(std::span<const uint8_t> value);
  PacketWriter& Attributes(const FileAttributes& attributes);
  std::vector<uint8_t> Finish() &&;
  std::span<const uint8_t> trailer() const { return trailer_; }

 private:
  std::vector<uint8_t> bytes_;
  std::span<const uint8_t> trailer_;
};

// Reads fields from a packet body (after the length). A read past the end or a malformed field
// makes ok() false for good and returns zero values, so callers check once at the end.
class PacketReader {
 public:
  explicit PacketReader(std::span<const uint8_t> body) : body_(body) {}
  uint8_t U8();
  uint32_t U32();
  uint64_t U64();
  std::string String();
  std::span<const uint8_t> StringBytes();  // a view into the body, valid while the body lives
  FileAttributes Attributes();
  std::vector<NameEntry> Names();  // the body of an SSH_FXP_NAME after its id
  FileSystemStats StatVfs();       // the body of statvfs@openssh.com's reply after its id
  bool ok() const { return ok_; }
  bool AtEnd() const { return position_ == body_.size(); }
  size_t remaining() const { return body_.size() - position_; }

 private:
  bool Need(size_t count);
  std::span<const uint8_t> body_;
  size_t position_ = 0;
  bool ok_ = true;
};

// Maps an SFTP status to the errno a POSIX caller expects (kOk -> 0, kEof -> 0).
int StatusToErrno(StatusCode status);

// Encodes the OPEN pflags for POSIX open(2) flags.
uint32_t OpenFlagsFromPosix(int posix_flags);

std::string_view PacketTypeName(PacketType type);

}  // namespace tp::sftp
