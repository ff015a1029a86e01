// VolumeRegistry is the Telemount volume driver's logic. It keeps the volumes (name, options,
// creation time), persists them atomically in <state_dir>/volumes.json so they survive plugin
// restarts, and shares one RemoteMount, at <mount_root>/<endpoint key>, among all volumes of one
// endpoint; a volume's local path is that mount's path plus its remote folder.
//
// Thread-safe. The registry lock is never held across a RemoteMountFactory::Mount or CheckFolder
// call: each endpoint has its own connect lock that serializes connecting, checking and
// unmounting for that endpoint only.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sync/mutex.h"
#include "telemount/remote_mount.h"
#include "telemount/volume/volume_driver.h"
#include "telemount/volume/volume_options.h"

namespace tp::telemount {

class VolumeRegistry : public VolumeDriver {
 public:
  // Loads the volumes saved in `state_dir` (created if missing) without connecting to anything;
  // mounts come back lazily on Mount. A corrupt state file is moved aside (volumes.json.corrupt)
  // and logged. `factory` must outlive the registry.
  VolumeRegistry(RemoteMountFactory& factory, std::string mount_root, std::string state_dir);
  ~VolumeRegistry() override;  // Unmounts every shared mount.

  // Create connects to the volume's server (or reuses its mount) and checks that the folder
  // exists; on any failure nothing is kept: no volume, no new mount.
  void Create(const std::string& name, const VolumeOptions& options) override;
  void Remove(const std::string& name) override;
  std::string Mount(const std::string& name, const std::string& mount_id) override;
  void Unmount(const std::string& name, const std::string& mount_id) override;
  std::string Path(const std::string& name) override;
  VolumeInfo Get(const std::string& name) override;
  std::vector<VolumeInfo> List() override;
  std::string Scope() const override { return "local"; }

  // Unmounts every shared mount (volumes stay; they remount on the next Mount). For shutdown.
  void UnmountAll();

  const std::string& state_file() const { return state_file_; }

 private:
  struct Volume {
    VolumeOptions options;
    VolumeSpec spec;
    std::string created_at;
    std::set<std::string> mount_ids;  // active container mounts
  };
  // One per endpoint ever used; never erased, so all connects and unmounts of an endpoint
  // serialize on one connect_mu and two mounts never race for the same folder.
  struct EndpointMount {
    Mutex connect_mu;
    std::unique_ptr<RemoteMount> mount GUARDED_BY(connect_mu);
    std::atomic<bool> mounted{false};  // mirrors mount != nullptr for lock-free status
  };

  std::string MountpointOf(const RemoteEndpoint& endpoint) const;
  std::string VolumePath(const VolumeSpec& spec) const;
  VolumeInfo Describe(const std::string& name, const Volume& volume) const REQUIRES(mu_);
  const Volume& Find(const std::string& name) const REQUIRES(mu_);  // throws
  std::shared_ptr<EndpointMount> SlotFor(const RemoteEndpoint& endpoint) REQUIRES(mu_);
  bool EndpointInUse(const RemoteEndpoint& endpoint) const REQUIRES(mu_);
  void ConnectLocked(EndpointMount& slot, const RemoteEndpoint& endpoint) REQUIRES(slot.connect_mu);
  // Unmounts `slot` and removes its empty mountpoint folder.
  void UnmountLocked(EndpointMount& slot, const RemoteEndpoint& endpoint) REQUIRES(slot.connect_mu);
  void DisconnectIfUnused(const RemoteEndpoint& endpoint);
  // Adds a checked volume and saves the state; returns "" or the problem.
  std::string AddVolumeLocked(const std::string& name, const VolumeOptions& options,
                              const VolumeSpec& spec) REQUIRES(mu_);
  void Load() EXCLUDES(mu_);
  void Save() const REQUIRES(mu_);  // throws std::runtime_error

  RemoteMountFactory& factory_;
  const std::string mount_root_;
  const std::string state_dir_;
  const std::string state_file_;

  mutable Mutex mu_;
  std::map<std::string, Volume> volumes_ GUARDED_BY(mu_);
  std::map<std::string, std::shared_ptr<EndpointMount>> endpoint_mounts_ GUARDED_BY(mu_);
};

}  // namespace tp::telemount
