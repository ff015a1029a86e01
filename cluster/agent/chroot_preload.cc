// libtp_chroot.so: confines a dynamically linked program (OpenSSH's sftp-server) to a folder
// after exec. Loaded with LD_PRELOAD; its constructor runs before the program's main: when
// TP_CHROOT is set it chroots there, changes to the new /, and unsets the variable. A failed
// chroot aborts the process with a message: a session must never see more than its folder.
//
// It fails closed also when it is not loaded at all (a loader that ignores LD_PRELOAD, a missing
// file): the agent starts the program with /dev/null as stdin and stdout and the client's
// connection on the descriptor TP_CHROOT_CONNECTION_FD names; only this constructor, once
// confined, makes that connection the program's stdin and stdout. Unconfined, the program reads
// end-of-file and exits without ever serving the client.
//
// sftp-server looks up its own user (getpwuid) after the chroot, where no /etc/passwd exists:
// the constructor keeps a copy of that entry (or makes one up) and getpwuid answers it for the
// process's uid, nothing for others (names then show as numbers). The copy lives in static
// storage: a preloaded library has no other place for it.
//
// sftp-server also opens /dev/null at start (to make sure fds 0-2 are open), which the exported
// tree has not: the constructor opens /dev/null before the chroot and open("/dev/null") answers
// a duplicate of it.
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

struct OwnUser {
  passwd entry{};
  char buffer[1024] = {};
  char fallback_name[32] = {};
  char root_dir[2] = "/";
  char shell[11] = "/bin/false";
  bool valid = false;
};

OwnUser own_user;      // written once by the constructor, before main
int dev_null_fd = -1;  // likewise: /dev/null of the real root, close-on-exec

void RememberOwnUser() {
  const uid_t uid = ::getuid();
  passwd* found = nullptr;
  if (::getpwuid_r(uid, &own_user.entry, own_user.buffer, sizeof own_user.buffer, &found) == 0 &&
      found != nullptr) {
    own_user.valid = true;
    return;
  }
  std::snprintf(own_user.fallback_name, sizeof own_user.fallback_name, "%s",
                uid == 0 ? "root" : "user");
  own_user.entry = passwd{};
  own_user.entry.pw_name = own_user.fallback_name;
  own_user.entry.pw_passwd = own_user.shell + 10;  // ""
  own_user.entry.pw_uid = uid;
  own_user.entry.pw_gid = ::getgid();
  own_user.entry.pw_gecos = own_user.shell + 10;
  own_user.entry.pw_dir = own_user.root_dir;
  own_user.entry.pw_shell = own_user.shell;
  own_user.valid = true;
}

[[noreturn]] void Abort(const char* what, const char* folder) {
  std::fprintf(stderr, "libtp_chroot: cannot %s %s: %s; refusing to run unconfined\n", what, folder,
               std::strerror(errno));
  std::abort();
}

__attribute__((constructor)) void ConfineToFolder() {
  const char* folder = std::getenv("TP_CHROOT");
  if (folder == nullptr) return;
  RememberOwnUser();
  dev_null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  if (::chroot(folder) != 0) Abort("chroot into", folder);
  if (::chdir("/") != 0) Abort("change to / in", folder);
  ::unsetenv("TP_CHROOT");
  if (const char* connection = std::getenv("TP_CHROOT_CONNECTION_FD")) {
    const int fd = std::atoi(connection);
    if (fd <= STDERR_FILENO || ::dup2(fd, STDIN_FILENO) < 0 || ::dup2(fd, STDOUT_FILENO) < 0) {
      Abort("take the connection in", folder);
    }
    ::close(fd);
    ::unsetenv("TP_CHROOT_CONNECTION_FD");
  }
}

}  // namespace

extern "C" passwd* getpwuid(uid_t uid) {
  if (own_user.valid && uid == own_user.entry.pw_uid) {
    // The home folder is the confined root: the entry's real one does not exist here.
    own_user.entry.pw_dir = own_user.root_dir;
    return &own_user.entry;
  }
  return nullptr;
}

// open(2), except that /dev/null (absent in the confined tree) is the one of the real root.
extern "C" int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list arguments;
    va_start(arguments, flags);
    mode = static_cast<mode_t>(va_arg(arguments, int));
    va_end(arguments);
  }
  if (dev_null_fd >= 0 && std::strcmp(path, "/dev/null") == 0) {
    return ::fcntl(dev_null_fd, (flags & O_CLOEXEC) != 0 ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
  }
  return ::openat(AT_FDCWD, path, flags, mode);
}
