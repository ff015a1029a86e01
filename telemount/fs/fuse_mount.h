// FuseMount is one mounted libfuse3 file system served by a multi-threaded loop on a background
// thread. Destroying it (or Unmount()) always completes: it detaches the mount lazily and, if
// requests are still stuck, aborts the FUSE connection.
#pragma once

#define FUSE_USE_VERSION 35
#include <fuse.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "sync/mutex.h"

namespace tp::telemount {

class FuseMount {
 public:
  // Mounts `operations` (with `user_data` as the FUSE private data) at `mountpoint`, which must
  // exist; a stale mount found there (a crashed server's) is detached first. `options` are
  // mount options such as "ro", "allow_other", "fsname=...". Returns nullptr and a sentence in
  // *error on failure.
  static std::unique_ptr<FuseMount> Start(const std::string& mountpoint,
                                          const fuse_operations& operations, void* user_data,
                                          const std::vector<std::string>& options,
                                          std::string* error);
  ~FuseMount();
  FuseMount(const FuseMount&) = delete;
  FuseMount& operator=(const FuseMount&) = delete;

  // Unmounts and stops the loop; idempotent and safe from any thread but the loop's own.
  void Unmount();
  // Blocks until the loop ends (after Unmount() or an external `fusermount3 -u`).
  void Wait();
  const std::string& mountpoint() const { return mountpoint_; }

 private:
  FuseMount(std::string mountpoint, fuse* handle, unsigned connection_id);
  bool AbortConnection();

  // What the loop thread shares with this object; it outlives an abandoned mount.
  struct LoopState {
    Mutex mutex;
    CondVar loop_done;
    bool loop_finished GUARDED_BY(mutex) = false;
    bool abandoned GUARDED_BY(mutex) = false;  // the connection could not be ended
  };

  const std::string mountpoint_;
  fuse* fuse_;
  const unsigned connection_id_;  // the minor device number: /sys/fs/fuse/connections/<id>
  std::thread loop_;
  Mutex unmount_mutex_;
  bool unmounted_ GUARDED_BY(unmount_mutex_) = false;
  std::shared_ptr<LoopState> state_ = std::make_shared<LoopState>();
};

// Detaches whatever is mounted at `path` if it is a dead FUSE mount ("Transport endpoint is not
// connected"). Returns true if it did.
bool DetachStaleMount(const std::string& path);

}  // namespace tp::telemount
