// FakeRemoteMountFactory stands in for the SFTP mounts in unit tests: the "server" of every
// endpoint is one local folder, Mount only creates the mountpoint folder and counts, and ports
// marked unreachable fail to connect like a closed port would. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "sync/mutex.h"
#include "telemount/remote_mount.h"

namespace tp::telemount {

class FakeRemoteMountFactory : public RemoteMountFactory {
 public:
  explicit FakeRemoteMountFactory(std::string server_root);

  std::unique_ptr<RemoteMount> Mount(const RemoteEndpoint& endpoint,
                                     const std::string& mountpoint) override;

  void SetUnreachable(uint16_t port) { unreachable_ports_.insert(port); }
  int mounts_made() const;
  // Mountpoints of the mounts that are currently alive.
  std::multiset<std::string> live_mountpoints() const;

 private:
  class FakeMount;
  const std::string server_root_;
  std::set<uint16_t> unreachable_ports_;
  mutable Mutex mu_;
  int mounts_made_ GUARDED_BY(mu_) = 0;
  std::multiset<std::string> live_ GUARDED_BY(mu_);
};

}  // namespace tp::telemount
