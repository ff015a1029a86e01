// SftpFileSystem's libfuse operation table and its init: each entry finds the file system in
// fuse_get_context()->private_data and calls its method.
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {
namespace {

SftpFileSystem& Self() { return *static_cast<SftpFileSystem*>(fuse_get_context()->private_data); }

void* Init(fuse_conn_info* connection, fuse_config* config) {
  SftpFileSystem& self = Self();
  const double cache_seconds = self.cache_timeout().count() / 1000.0;
  const double short_seconds = self.short_cache_timeout().count() / 1000.0;
  config->use_ino = 0;
  config->nullpath_ok = 1;
  config->hard_remove = 1;  // unlink really unlinks; open handles keep working on the server
  // The kernel asks again for attributes after a second, and gets this process's cached
  // ones (current at the last open, see Create); names it keeps as long as they are cached.
  config->attr_timeout = short_seconds;
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
