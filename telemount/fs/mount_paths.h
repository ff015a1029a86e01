// Pure helpers of SftpFileSystem: where a mount path lies with respect to the hidden folder of
// volume roots (see sftp_filesystem.h), which remote path it names, and how SFTP attributes
// become a struct stat. No state, no I/O.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

#include "sftp/sftp_protocol.h"

namespace tp::telemount {

// Where a mount path lies with respect to the hidden folder of volume roots.
enum class Place { kOrdinary, kVolumesFolder, kVolumeRoot, kInsideVolume };
Place PlaceOf(std::string_view path);

// Neither the hidden folder nor a volume root may be made, removed or renamed through the mount.
bool IsFixed(const char* path);

// The remote path that mount path `path` names, for a mount of `remote_root` ("" for "/",
// otherwise without a trailing slash).
std::string RemotePathOf(const std::string& remote_root, const char* path);

// "/a/b" -> "/a"; "/a" -> "/".
std::string ParentOf(const std::string& path);

void ToStat(const sftp::FileAttributes& attributes, struct stat* st);

}  // namespace tp::telemount
