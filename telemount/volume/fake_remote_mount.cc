#include "telemount/volume/fake_remote_mount.h"

#include <filesystem>
#include <stdexcept>

#include "sync/mutex.h"

namespace tp::telemount {

class FakeRemoteMountFactory::FakeMount : public RemoteMount {
 public:
  FakeMount(FakeRemoteMountFactory& factory, std::string mountpoint)
      : factory_(factory), mountpoint_(std::move(mountpoint)) {}
  ~FakeMount() override {
    MutexLock lock(factory_.mu_);
    factory_.live_.erase(factory_.live_.find(mountpoint_));
  }
  const std::string& mountpoint() const override { return mountpoint_; }
  std::string CheckFolder(const std::string& remote_path) override {
    if (std::filesystem::is_directory(factory_.server_root_ + remote_path)) return "";
    return "no such folder " + remote_path + " on the fake server";
  }

 private:
  FakeRemoteMountFactory& factory_;
  const std::string mountpoint_;
};

FakeRemoteMountFactory::FakeRemoteMountFactory(std::string server_root)
    : server_root_(std::move(server_root)) {}

std::unique_ptr<RemoteMount> FakeRemoteMountFactory::Mount(const RemoteEndpoint& endpoint,
                                                           const std::string& mountpoint) {
  if (unreachable_ports_.count(endpoint.port) != 0) {
    throw std::runtime_error("cannot connect to " + endpoint.host + ":" +
                             std::to_string(endpoint.port) + ": Connection refused");
  }
  std::filesystem::create_directories(mountpoint);
  MutexLock lock(mu_);
  ++mounts_made_;
  live_.insert(mountpoint);
  return std::make_unique<FakeMount>(*this, mountpoint);
}

int FakeRemoteMountFactory::mounts_made() const {
  MutexLock lock(mu_);
  return mounts_made_;
}

std::multiset<std::string> FakeRemoteMountFactory::live_mountpoints() const {
  MutexLock lock(mu_);
  return live_;
}

}  // namespace tp::telemount
