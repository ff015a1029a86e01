#include "telemount/fs/mount_paths.h"

#include <cstring>

#include "telemount/remote_mount.h"

namespace tp::telemount {
namespace {

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

}  // namespace

void ToStat(const sftp::FileAttributes& attributes, struct stat* st) {
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

Place PlaceOf(std::string_view path) {
  if (!path.starts_with(kVolumesFolder)) return Place::kOrdinary;
  const std::string_view rest = path.substr(kVolumesFolder.size());
  if (rest.empty()) return Place::kVolumesFolder;
  if (rest.front() != '/') return Place::kOrdinary;  // "/.telemount-volumesX"
  if (rest.size() == 1) return Place::kVolumesFolder;
  return rest.find('/', 1) == std::string_view::npos ? Place::kVolumeRoot : Place::kInsideVolume;
}

bool IsFixed(const char* path) {
  const Place place = PlaceOf(path);
  return place == Place::kVolumesFolder || place == Place::kVolumeRoot;
}

std::string ParentOf(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string RemotePathOf(const std::string& remote_root, const char* path) {
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
    return remote_root + (remote_root.empty() || folder != "/" ? folder : "");
  }
  if (remote_root.empty()) return path;
  if (std::strcmp(path, "/") == 0) return remote_root;
  return remote_root + path;
}

}  // namespace tp::telemount
