// `telemount mount HOST:PORT:/remote/path MOUNTPOINT [-o OPTION[,OPTION]...]`: mounts a remote
// folder served by an SFTP server over plain TCP and serves it in the foreground until it is
// unmounted (fusermount3 -u) or the process is signalled.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/shutdown_signal.h"
#include "telemount/fs/sftp_remote_mount.h"

namespace tp::telemount {

struct MountRequest {
  std::string host;
  uint16_t port = 0;
  std::string remote_path;
  std::string mountpoint;
  bool read_only = false;
  bool allow_other = false;
  bool fuse_debug = false;
  SftpMountSettings settings;
};

// Parses the arguments after the word `mount`. Returns nullopt and a sentence in *error when
// they are wrong.
std::optional<MountRequest> ParseMountArguments(const std::vector<std::string>& arguments,
                                                std::string* error);

// argv holds the arguments after the word `mount`. Returns the process exit code.
int RunMountCommand(int argc, char** argv, ShutdownSignal& shutdown);

}  // namespace tp::telemount
