#include "telemount/fs/fuse_mount.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

namespace tp::telemount {

bool DetachStaleMount(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 || errno != ENOTCONN) return false;
  spdlog::info("detaching stale mount at {}", path);
  return ::umount2(path.c_str(), MNT_DETACH) == 0;
}

std::unique_ptr<FuseMount> FuseMount::Start(const std::string& mountpoint,
                                            const fuse_operations& operations, void* user_data,
                                            const std::vector<std::string>& options,
                                            std::string* error) {
  DetachStaleMount(mountpoint);
  struct stat before;
  if (::stat(mountpoint.c_str(), &before) != 0 || !S_ISDIR(before.st_mode)) {
    *error = "mount point " + mountpoint + " is not a folder";
    return nullptr;
  }
  std::vector<std::string> arguments = {"telemount"};
  for (const std::string& option : options) {
    arguments.push_back("-o");
    arguments.push_back(option);
  }
  std::vector<char*> argv;
  for (std::string& argument : arguments) argv.push_back(argument.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  fuse* handle = fuse_new(&args, &operations, sizeof(operations), user_data);
  fuse_opt_free_args(&args);
  if (handle == nullptr) {
    *error = "cannot set up the FUSE file system (bad mount options?)";
    return nullptr;
  }
  if (fuse_mount(handle, mountpoint.c_str()) != 0) {
    fuse_destroy(handle);
    *error = "cannot mount FUSE at " + mountpoint + " (is /dev/fuse there, with CAP_SYS_ADMIN?)";
    return nullptr;
  }
  unsigned connection_id = 0;
  // stat() of the new mount would call into our own not-yet-running loop; the mount table gives
  // the device without asking the file system.
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    // "<id> <parent> <major>:<minor> <root> <mountpoint> ..."
    char device[64], root[4096], where[4096];
    if (std::sscanf(line.c_str(), "%*d %*d %63s %4095s %4095s", device, root, where) == 3 &&
        mountpoint == where) {
      unsigned major_number = 0, minor_number = 0;
      std::sscanf(device, "%u:%u", &major_number, &minor_number);
      connection_id = makedev(major_number, minor_number);
    }
  }
  return std::unique_ptr<FuseMount>(new FuseMount(mountpoint, handle, connection_id));
}

FuseMount::FuseMount(std::string mountpoint, fuse* handle, unsigned connection_id)
    : mountpoint_(std::move(mountpoint)), fuse_(handle), connection_id_(connection_id) {
  loop_ = std::thread([this] {
    fuse_loop_config config{};
    config.clone_fd = 0;
    config.max_idle_threads = 16;
    fuse_loop_mt(fuse_, &config);
    std::lock_guard lock(unmount_mutex_);
    loop_finished_ = true;
    loop_done_.notify_all();
  });
}

FuseMount::~FuseMount() {
  Unmount();
  Wait();
  fuse_destroy(fuse_);
}

void FuseMount::AbortConnection() {
  if (connection_id_ == 0) return;
  std::ofstream abort("/sys/fs/fuse/connections/" + std::to_string(connection_id_) + "/abort");
  if (abort) abort << "1" << std::flush;
}

void FuseMount::Unmount() {
  {
    std::lock_guard lock(unmount_mutex_);
    if (unmounted_) return;
    unmounted_ = true;
  }
  fuse_exit(fuse_);
  // As root, libfuse detaches lazily: this never blocks on a busy mount.
  fuse_unmount(fuse_);
  // The loop ends once the kernel lets go of the connection; a process still holding a file
  // open would keep it alive, so cut the connection after a grace period.
  std::unique_lock lock(unmount_mutex_);
  if (!loop_done_.wait_for(lock, std::chrono::seconds(2), [this] { return loop_finished_; })) {
    spdlog::warn("{} still busy after unmount; aborting its FUSE connection", mountpoint_);
    AbortConnection();
  }
}

void FuseMount::Wait() {
  if (loop_.joinable()) loop_.join();
}

}  // namespace tp::telemount
