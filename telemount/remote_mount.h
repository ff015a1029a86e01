// RemoteMount is one live FUSE mount of a remote SFTP server's whole tree ("/"), shared by every
// volume on the same server (each volume a folder of it, see VolumeRootPath); RemoteMountFactory
// makes them. The volume logic depends only on these interfaces; sftp_remote_mount.h provides the
// real implementation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace tp::telemount {

// Volume roots. A volume is not handed to dockerd as mountpoint + its remote folder: a link
// anywhere on that path (the server's to give) would make dockerd, which resolves the path on the
// host, bind-mount a host folder. It is handed as mountpoint + kVolumesFolder + "/" +
// VolumeRootName(folder): a hidden folder of the mount, then a folder the file system shows as
// the server resolves the remote folder (links followed by the server, in its own view of its
// files). Neither is ever a link, so the path stays inside the mount whatever the server does.
inline constexpr std::string_view kVolumesFolder = "/.telemount-volumes";

// The remote folder (absolute) with '%' and '/' percent-encoded; nullopt when that is longer than
// a file name may be (255 bytes).
inline std::optional<std::string> VolumeRootName(const std::string& folder) {
  std::string name;
  for (char c : folder) {
    if (c == '/') {
      name += "%2F";
    } else if (c == '%') {
      name += "%25";
    } else {
      name += c;
    }
  }
  if (name.empty() || name.size() > 255) return std::nullopt;
  return name;
}

// 8 hex digits of a 32-bit FNV-1a hash of `token`: tells tokens apart without revealing them.
inline std::string TokenTag(std::string_view token) {
  uint32_t hash = 2166136261u;
  for (const char c : token) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  constexpr char kHex[] = "0123456789abcdef";
  std::string tag;
  for (int shift = 28; shift >= 0; shift -= 4) tag += kHex[(hash >> shift) & 0xf];
  return tag;
}

// Where a remote tree lives and how it is mounted. Equal endpoints share one mount.
struct RemoteEndpoint {
  std::string host;
  uint16_t port = 0;
  bool read_only = false;
  // Sent first on every connection (common/sftp_preface.h) when not empty.
  std::string token{};

  // A stable text form usable in file names, e.g. "127.0.0.1_2222_rw", or
  // "127.0.0.1_2222_rw_t5d41402a" with a token: never the token itself (mount points are
  // world-readable), but endpoints that differ only in their token get different names.
  std::string Key() const {
    std::string key = host + "_" + std::to_string(port) + (read_only ? "_ro" : "_rw");
    if (!token.empty()) key += "_t" + TokenTag(token);
    return key;
  }
  bool operator==(const RemoteEndpoint&) const = default;
};

class RemoteMount {
 public:
  virtual ~RemoteMount() = default;

  // The local folder where the remote "/" appears; remote path P is at mountpoint() + P.
  virtual const std::string& mountpoint() const = 0;

  // Returns "" when `remote_path` (absolute) is an existing folder on the server, otherwise a
  // sentence naming the problem ("no such folder /x on 127.0.0.1:2222"). Never blocks longer
  // than the request timeout.
  virtual std::string CheckFolder(const std::string& remote_path) = 0;
};

class RemoteMountFactory {
 public:
  virtual ~RemoteMountFactory() = default;

  // Connects to `endpoint` and mounts its tree at `mountpoint` (created if missing; a stale
  // mount left there by a crashed process is detached first). Throws std::runtime_error with a
  // sentence naming the problem (e.g. "cannot connect to 10.0.0.1:2222: Connection refused").
  // The mount is unmounted when the returned object is destroyed.
  virtual std::unique_ptr<RemoteMount> Mount(const RemoteEndpoint& endpoint,
                                             const std::string& mountpoint) = 0;
};

}  // namespace tp::telemount
