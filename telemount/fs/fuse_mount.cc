#include "telemount/fs/fuse_mount.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>

#include "sync/mutex.h"

namespace tp::telemount {

bool DetachStaleMount(const std::string& path) {
  // statfs always asks the file system (stat may be answered from cached attributes, e.g. with
  // default_permissions), so a dead FUSE mount answers ENOTCONN here.
  struct statvfs st;
  if (::statvfs(path.c_str(), &st) == 0 || errno != ENOTCONN) return false;
  spdlog::info("detaching stale mount at {}", path);
  return ::umount2(path.c_str(), MNT_DETACH) == 0;
}

namespace {

// The kernel reads ahead only 128 KiB on a FUSE mount by default, which leaves a fast server
// idle between requests; widen the window where /sys lets us (best effort).
void WidenReadAhead(const std::string& device) {
  if (device.empty()) return;
  std::ofstream read_ahead("/sys/class/bdi/" + device + "/read_ahead_kb");
  if (read_ahead) read_ahead << "4096" << std::flush;
  if (!read_ahead) spdlog::debug("cannot widen read-ahead of {}", device);
}

}  // namespace

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
  std::string device_name;
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
      device_name = device;
    }
  }
  WidenReadAhead(device_name);
  return std::unique_ptr<FuseMount>(new FuseMount(mountpoint, handle, connection_id));
}

FuseMount::FuseMount(std::string mountpoint, fuse* handle, unsigned connection_id)
    : mountpoint_(std::move(mountpoint)), fuse_(handle), connection_id_(connection_id) {
  loop_ = std::thread([handle, state = state_] {
    fuse_loop_config config{};
    config.clone_fd = 0;
    config.max_idle_threads = 16;
    fuse_loop_mt(handle, &config);
    MutexLock lock(state->mutex);
    state->loop_finished = true;
    state->loop_done.NotifyAll();
  });
}

FuseMount::~FuseMount() {
  Unmount();
  Wait();
  MutexLock lock(state_->mutex);
  if (state_->abandoned && !state_->loop_finished) {
    loop_.detach();  // its state is shared; the fuse object is leaked on purpose
    return;
  }
  loop_.join();
  fuse_destroy(fuse_);
}

bool FuseMount::AbortConnection() {
  if (connection_id_ == 0) return false;
  const std::string connections = "/sys/fs/fuse/connections";
  const std::string abort_file = connections + "/" + std::to_string(connection_id_) + "/abort";
  // The control file system is often not mounted (in containers, in plugins); mount it then.
  if (::access(abort_file.c_str(), W_OK) != 0) {
    ::mount("fusectl", connections.c_str(), "fusectl", 0, nullptr);
  }
  std::ofstream abort(abort_file);
  if (!abort) return false;
  abort << "1" << std::flush;
  return static_cast<bool>(abort);
}

void FuseMount::Unmount() {
  {
    MutexLock lock(unmount_mutex_);
    if (unmounted_) return;
    unmounted_ = true;
  }
  fuse_exit(fuse_);
  // As root, libfuse detaches lazily: this never blocks on a busy mount.
  fuse_unmount(fuse_);
  // The loop ends once the kernel lets go of the connection; a process still holding a file
  // open would keep it alive, so cut the connection after a grace period.
  auto finished = [this]() REQUIRES(state_->mutex) { return state_->loop_finished; };
  MutexLock lock(state_->mutex);
  if (state_->loop_done.WaitFor(state_->mutex, std::chrono::seconds(2), finished)) return;
  spdlog::warn("{} still busy after unmount; aborting its FUSE connection", mountpoint_);
  lock.Unlock();
  const bool aborted = AbortConnection();
  lock.Lock();
  if (aborted && state_->loop_done.WaitFor(state_->mutex, std::chrono::seconds(2), finished))
    return;
  spdlog::error("{}: cannot end the FUSE connection; leaving it to process exit", mountpoint_);
  state_->abandoned = true;
  state_->loop_done.NotifyAll();
}

void FuseMount::Wait() {
  MutexLock lock(state_->mutex);
  state_->loop_done.Wait(state_->mutex, [this]() REQUIRES(state_->mutex) {
    return state_->loop_finished || state_->abandoned;
  });
}

}  // namespace tp::telemount
