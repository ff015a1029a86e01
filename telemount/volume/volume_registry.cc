#include "telemount/volume/volume_registry.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>

#include "common/atomic_file.h"
#include "sync/mutex.h"

namespace tp::telemount {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

std::string Quoted(const std::string& text) { return "\"" + text + "\""; }

std::string NowRfc3339() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

}  // namespace

VolumeRegistry::VolumeRegistry(RemoteMountFactory& factory, std::string mount_root,
                               std::string state_dir)
    : factory_(factory),
      mount_root_(std::move(mount_root)),
      state_dir_(std::move(state_dir)),
      state_file_(state_dir_ + "/volumes.json") {
  fs::create_directories(state_dir_);
  Load();
}

VolumeRegistry::~VolumeRegistry() { UnmountAll(); }

void VolumeRegistry::Create(const std::string& name, const VolumeOptions& options) {
  if (!IsValidVolumeName(name)) {
    throw std::invalid_argument("invalid volume name " + Quoted(name) +
                                ": use letters, digits, '_', '.' and '-', starting with a "
                                "letter or digit");
  }
  const VolumeSpec spec = ParseVolumeOptions(options);
  if (!VolumeRootName(spec.remote_folder)) {
    throw std::invalid_argument("the remote folder " + spec.remote_folder +
                                " is too long for a volume (at most 255 bytes once '/' and '%' "
                                "are written %2F and %25)");
  }
  std::shared_ptr<EndpointMount> slot;
  {
    MutexLock lock(mu_);
    auto it = volumes_.find(name);
    if (it != volumes_.end()) {
      if (it->second.options == options) return;
      throw std::runtime_error("volume " + Quoted(name) + " already exists with other options");
    }
    slot = SlotFor(spec.endpoint);
  }

  MutexLock connect_lock(slot->connect_mu);
  ConnectLocked(*slot, spec.endpoint);
  std::string problem = slot->mount->CheckFolder(spec.remote_folder);
  bool unmount = false;
  {
    MutexLock lock(mu_);
    if (problem.empty()) problem = AddVolumeLocked(name, options, spec);
    unmount = !problem.empty() && !EndpointInUse(spec.endpoint);
  }
  if (unmount) UnmountLocked(*slot, spec.endpoint);
  if (!problem.empty()) throw std::runtime_error(problem);
  spdlog::info("created volume {} ({}:{}{}{})", name, spec.endpoint.host, spec.endpoint.port,
               spec.remote_folder, spec.endpoint.read_only ? ", read-only" : "");
}

std::string VolumeRegistry::AddVolumeLocked(const std::string& name, const VolumeOptions& options,
                                            const VolumeSpec& spec) {
  auto [it, inserted] = volumes_.try_emplace(name, Volume{options, spec, NowRfc3339(), {}});
  if (!inserted) {  // created concurrently
    return it->second.options == options
               ? ""
               : "volume " + Quoted(name) + " already exists with other options";
  }
  try {
    Save();
  } catch (const std::exception& error) {
    volumes_.erase(it);
    return error.what();
  }
  return "";
}

void VolumeRegistry::Remove(const std::string& name) {
  RemoteEndpoint endpoint;
  {
    MutexLock lock(mu_);
    auto it = volumes_.find(name);
    if (it == volumes_.end()) {
      // Idempotent, so `docker volume rm` can always clear a volume this plugin forgot.
      spdlog::info("remove of unknown volume {} ignored", name);
      return;
    }
    const Volume& volume = it->second;
    if (!volume.mount_ids.empty()) {
      const size_t users = volume.mount_ids.size();
      throw std::runtime_error("volume " + name + " is in use by " + std::to_string(users) +
                               (users == 1 ? " container" : " containers"));
    }
    endpoint = volume.spec.endpoint;
    auto node = volumes_.extract(name);
    try {
      Save();
    } catch (...) {
      volumes_.insert(std::move(node));
      throw;
    }
  }
  spdlog::info("removed volume {}", name);
  DisconnectIfUnused(endpoint);
}

std::string VolumeRegistry::Mount(const std::string& name, const std::string& mount_id) {
  VolumeSpec spec;
  std::shared_ptr<EndpointMount> slot;
  {
    MutexLock lock(mu_);
    spec = Find(name).spec;
    slot = SlotFor(spec.endpoint);
  }
  {
    MutexLock connect_lock(slot->connect_mu);
    ConnectLocked(*slot, spec.endpoint);
  }
  {
    MutexLock lock(mu_);
    auto it = volumes_.find(name);
    if (it != volumes_.end()) {
      it->second.mount_ids.insert(mount_id);
      spdlog::info("mounted volume {} for {} ({} active)", name, mount_id,
                   it->second.mount_ids.size());
      return VolumePath(spec);
    }
  }
  DisconnectIfUnused(spec.endpoint);  // the volume was removed while we connected
  throw std::runtime_error("no such volume: " + name);
}

void VolumeRegistry::Unmount(const std::string& name, const std::string& mount_id) {
  MutexLock lock(mu_);
  auto it = volumes_.find(name);
  if (it == volumes_.end() || it->second.mount_ids.erase(mount_id) == 0) {
    spdlog::info("unmount of volume {} for unknown mount {} ignored", name, mount_id);
    return;
  }
  spdlog::info("unmounted volume {} for {} ({} active)", name, mount_id,
               it->second.mount_ids.size());
}

std::string VolumeRegistry::Path(const std::string& name) {
  MutexLock lock(mu_);
  return VolumePath(Find(name).spec);
}

VolumeInfo VolumeRegistry::Get(const std::string& name) {
  MutexLock lock(mu_);
  return Describe(name, Find(name));
}

std::vector<VolumeInfo> VolumeRegistry::List() {
  MutexLock lock(mu_);
  std::vector<VolumeInfo> volumes;
  for (const auto& [name, volume] : volumes_) volumes.push_back(Describe(name, volume));
  return volumes;
}

void VolumeRegistry::UnmountAll() {
  std::vector<std::shared_ptr<EndpointMount>> slots;
  {
    MutexLock lock(mu_);
    for (const auto& [key, slot] : endpoint_mounts_) slots.push_back(slot);
  }
  for (const auto& slot : slots) {
    MutexLock connect_lock(slot->connect_mu);
    slot->mount.reset();
    slot->mounted = false;
  }
}

void VolumeRegistry::UnmountLocked(EndpointMount& slot, const RemoteEndpoint& endpoint) {
  if (!slot.mount) return;
  spdlog::info("unmounting {} (no volume left on it)", MountpointOf(endpoint));
  slot.mount.reset();
  slot.mounted = false;
  std::error_code ignored;
  fs::remove(MountpointOf(endpoint), ignored);  // only removes an empty folder
}

std::string VolumeRegistry::MountpointOf(const RemoteEndpoint& endpoint) const {
  return mount_root_ + "/" + endpoint.Key();
}

// Never mountpoint + remote folder: see kVolumesFolder (a link on the server could lead dockerd
// out of the mount).
std::string VolumeRegistry::VolumePath(const VolumeSpec& spec) const {
  const std::optional<std::string> name = VolumeRootName(spec.remote_folder);
  return MountpointOf(spec.endpoint) + std::string(kVolumesFolder) + "/" + name.value_or("");
}

VolumeInfo VolumeRegistry::Describe(const std::string& name, const Volume& volume) const {
  const RemoteEndpoint& endpoint = volume.spec.endpoint;
  auto slot = endpoint_mounts_.find(endpoint.Key());
  const bool mounted = slot != endpoint_mounts_.end() && slot->second->mounted;
  return VolumeInfo{
      .name = name,
      .mountpoint = VolumePath(volume.spec),
      .created_at = volume.created_at,
      .status = {{"server", endpoint.host + ":" + std::to_string(endpoint.port)},
                 {"remote_folder", volume.spec.remote_folder},
                 {"read_only", endpoint.read_only ? "true" : "false"},
                 {"mounted", mounted ? "true" : "false"},
                 {"active_mounts", std::to_string(volume.mount_ids.size())}},
  };
}

const VolumeRegistry::Volume& VolumeRegistry::Find(const std::string& name) const {
  auto it = volumes_.find(name);
  if (it == volumes_.end()) throw std::runtime_error("no such volume: " + name);
  return it->second;
}

std::shared_ptr<VolumeRegistry::EndpointMount> VolumeRegistry::SlotFor(
    const RemoteEndpoint& endpoint) {
  auto& slot = endpoint_mounts_[endpoint.Key()];
  if (!slot) slot = std::make_shared<EndpointMount>();
  return slot;
}

bool VolumeRegistry::EndpointInUse(const RemoteEndpoint& endpoint) const {
  for (const auto& [name, volume] : volumes_) {
    if (volume.spec.endpoint == endpoint) return true;
  }
  return false;
}

void VolumeRegistry::ConnectLocked(EndpointMount& slot, const RemoteEndpoint& endpoint) {
  if (slot.mount) return;
  const std::string mountpoint = MountpointOf(endpoint);
  spdlog::info("mounting {}:{} at {}", endpoint.host, endpoint.port, mountpoint);
  slot.mount = factory_.Mount(endpoint, mountpoint);
  slot.mounted = true;
}

void VolumeRegistry::DisconnectIfUnused(const RemoteEndpoint& endpoint) {
  std::shared_ptr<EndpointMount> slot;
  {
    MutexLock lock(mu_);
    if (EndpointInUse(endpoint)) return;
    auto it = endpoint_mounts_.find(endpoint.Key());
    if (it == endpoint_mounts_.end()) return;
    slot = it->second;
  }
  MutexLock connect_lock(slot->connect_mu);
  {
    MutexLock lock(mu_);
    if (EndpointInUse(endpoint)) return;  // a Create took it while we waited
  }
  UnmountLocked(*slot, endpoint);
}

void VolumeRegistry::Load() {
  const std::optional<std::string> text = ReadWholeFile(state_file_);
  if (!text) return;  // first start
  json state = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (state.is_discarded() || !state.is_object() || !state.contains("volumes") ||
      !state["volumes"].is_array()) {
    const std::string aside = state_file_ + ".corrupt";
    spdlog::error("{} is not a volume list; moved to {}, starting with no volumes", state_file_,
                  aside);
    std::error_code ignored;
    fs::rename(state_file_, aside, ignored);
    return;
  }
  MutexLock lock(mu_);  // in the constructor: uncontended
  for (const json& entry : state["volumes"]) {
    try {
      const std::string name = entry.at("name").get<std::string>();
      const auto options = entry.at("options").get<VolumeOptions>();
      const std::string created_at = entry.value("created_at", "");
      volumes_[name] = Volume{options, ParseVolumeOptions(options), created_at, {}};
    } catch (const std::exception& error) {
      spdlog::error("skipping unreadable volume entry {} in {}: {}", entry.dump(), state_file_,
                    error.what());
    }
  }
  spdlog::info("loaded {} volume(s) from {}", volumes_.size(), state_file_);
}

void VolumeRegistry::Save() const {
  json volumes = json::array();
  for (const auto& [name, volume] : volumes_) {
    volumes.push_back(
        {{"name", name}, {"options", volume.options}, {"created_at", volume.created_at}});
  }
  const json state = {{"version", 1}, {"volumes", volumes}};
  WriteFileAtomically(state_file_, state.dump(2) + "\n");
}

}  // namespace tp::telemount
