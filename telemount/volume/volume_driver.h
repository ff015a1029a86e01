// VolumeDriver is the protocol-independent contract of a Docker volume driver: volume_api.h maps
// the VolumeDriver.* plugin calls onto it. Every method may be called concurrently from several
// threads; failures are thrown as std::exception whose what() is a sentence for the user.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace tp::telemount {

struct VolumeInfo {
  std::string name;
  std::string mountpoint;  // local path; may be reported before the volume is mounted
  std::string created_at;  // RFC 3339, UTC
  std::map<std::string, std::string> status;  // free-form details for `docker volume inspect`
};

class VolumeDriver {
 public:
  virtual ~VolumeDriver() = default;

  // Creates volume `name` from its `-o` options. Creating an existing volume with the same
  // options succeeds; with other options it fails.
  virtual void Create(const std::string& name,
                      const std::map<std::string, std::string>& options) = 0;
  // Forgets the volume; fails while a container has it mounted. An unknown name is not an
  // error (nothing to remove).
  virtual void Remove(const std::string& name) = 0;
  // Makes the volume available for one container start identified by `mount_id` and returns its
  // local path. Each Mount is undone by an Unmount with the same ID.
  virtual std::string Mount(const std::string& name, const std::string& mount_id) = 0;
  // Releases `mount_id`. An ID (or volume) that is not (or no longer) known is ignored.
  virtual void Unmount(const std::string& name, const std::string& mount_id) = 0;
  // The local path of the volume. Fails for an unknown volume.
  virtual std::string Path(const std::string& name) = 0;
  // Fails for an unknown volume (dockerd relies on this to tell new names from known ones).
  virtual VolumeInfo Get(const std::string& name) = 0;
  virtual std::vector<VolumeInfo> List() = 0;
  // "local" or "global", the scope of the driver's volume names.
  virtual std::string Scope() const = 0;
};

}  // namespace tp::telemount
