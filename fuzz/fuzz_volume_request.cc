// libFuzzer target: every VolumeDriver.* request body through the shared plugin layer and the
// volume API's decoders (telemount/volume/volume_api.h) into a driver that does nothing but check
// the volume's name and options with the real parsers (volume_options.h), as VolumeRegistry
// does before it acts. Input format: see fuzz/plugin_call.h.
#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "fuzz/plugin_call.h"
#include "telemount/volume/volume_api.h"
#include "telemount/volume/volume_options.h"

namespace {

using tp::telemount::VolumeDriver;
using tp::telemount::VolumeInfo;

class CheckingVolumeDriver : public VolumeDriver {
 public:
  void Create(const std::string& name, const std::map<std::string, std::string>& options) override {
    if (!tp::telemount::IsValidVolumeName(name)) throw std::invalid_argument("bad name " + name);
    static_cast<void>(tp::telemount::ParseVolumeOptions(options));
  }
  void Remove(const std::string&) override {}
  std::string Mount(const std::string& name, const std::string&) override { return Path(name); }
  void Unmount(const std::string&, const std::string&) override {}
  std::string Path(const std::string& name) override { return "/mnt/" + name; }
  VolumeInfo Get(const std::string& name) override {
    return {name, Path(name), "2026-01-01T00:00:00Z", {{"name", name}}};
  }
  std::vector<VolumeInfo> List() override { return {Get("listed")}; }
  std::string Scope() const override { return "local"; }
};

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  tp::fuzz::QuietPluginLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static CheckingVolumeDriver driver;
  static const std::vector<tp::PluginRoute> routes = tp::telemount::VolumeDriverRoutes(driver);
  tp::fuzz::CallPluginRoutes(routes, data, size);
  return 0;
}
