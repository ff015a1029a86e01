#include "telemount/volume/volume_api.h"

#include <functional>
#include <map>
#include <string>

namespace tp::telemount {
namespace {

using nlohmann::json;

std::map<std::string, std::string> DecodeOptions(const json& request) {
  std::map<std::string, std::string> options;
  auto it = request.find("Opts");
  if (it == request.end() || it->is_null()) return options;
  if (!it->is_object()) throw PluginError("field \"Opts\" must be an object");
  for (const auto& [key, value] : it->items()) {
    if (!value.is_string()) {
      throw PluginError("option \"" + key + "\" must have a string value");
    }
    options[key] = value.get<std::string>();
  }
  return options;
}

json EncodeVolume(const VolumeInfo& volume) {
  json encoded = {{"Name", volume.name}, {"Mountpoint", volume.mountpoint}};
  if (!volume.created_at.empty()) encoded["CreatedAt"] = volume.created_at;
  if (!volume.status.empty()) encoded["Status"] = volume.status;
  return encoded;
}

// Runs a driver call, turning its failures into PluginError so every error reaches dockerd
// with the driver's sentence.
json CallDriver(const std::function<json()>& call) {
  try {
    return call();
  } catch (const PluginError&) {
    throw;
  } catch (const std::exception& error) {
    throw PluginError(error.what());
  }
}

}  // namespace

std::vector<PluginRoute> VolumeDriverRoutes(VolumeDriver& driver) {
  VolumeDriver* d = &driver;
  return {
      {"VolumeDriver.Create",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         const auto options = DecodeOptions(request);
         return CallDriver([&] {
           d->Create(name, options);
           return json::object();
         });
       }},
      {"VolumeDriver.Remove",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         return CallDriver([&] {
           d->Remove(name);
           return json::object();
         });
       }},
      {"VolumeDriver.Mount",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         const std::string id = RequireString(request, "ID");
         return CallDriver([&] { return json{{"Mountpoint", d->Mount(name, id)}}; });
       }},
      {"VolumeDriver.Unmount",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         const std::string id = RequireString(request, "ID");
         return CallDriver([&] {
           d->Unmount(name, id);
           return json::object();
         });
       }},
      {"VolumeDriver.Path",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         return CallDriver([&] { return json{{"Mountpoint", d->Path(name)}}; });
       }},
      {"VolumeDriver.Get",
       [d](const json& request) {
         const std::string name = RequireString(request, "Name");
         return CallDriver([&] { return json{{"Volume", EncodeVolume(d->Get(name))}}; });
       }},
      {"VolumeDriver.List",
       [d](const json&) {
         return CallDriver([&] {
           json volumes = json::array();
           for (const VolumeInfo& volume : d->List()) volumes.push_back(EncodeVolume(volume));
           return json{{"Volumes", volumes}};
         });
       }},
      {"VolumeDriver.Capabilities",
       [d](const json&) {
         return CallDriver([&] { return json{{"Capabilities", {{"Scope", d->Scope()}}}}; });
       }},
  };
}

}  // namespace tp::telemount
