// The real RemoteMountFactory: each RemoteMount is an SFTP connection (over plain TCP) to the
// endpoint plus a multi-threaded FUSE mount of the remote "/" served by SftpFileSystem.
#pragma once

#include <chrono>
#include <memory>

#include "telemount/remote_mount.h"

namespace tp::telemount {

// Timeouts of a mount. Defaults keep every failure under 5 s; the environment can change them.
struct SftpMountSettings {
  std::chrono::milliseconds connect_timeout{3000};  // TCP connect + SFTP init
  std::chrono::milliseconds request_timeout{4000};  // any one SFTP request
  // Attributes and names (as sshfs's 20 s cache); every open fetches the file's attributes
  // afresh. Folder listings, which answer "no such file", and the kernel's own copy of
  // attributes last at most kShortCacheTimeout (sftp_filesystem.h).
  std::chrono::milliseconds cache_timeout{20000};
};

// Reads TELEMOUNT_CONNECT_TIMEOUT, TELEMOUNT_REQUEST_TIMEOUT and TELEMOUNT_CACHE_TIMEOUT
// (seconds, decimals allowed) over the defaults; ignores (and logs) unparsable values.
SftpMountSettings SettingsFromEnvironment();

std::unique_ptr<RemoteMountFactory> MakeSftpRemoteMountFactory(SftpMountSettings settings);

}  // namespace tp::telemount
