// The VolumeDriver.* methods of the Docker plugin API (docker.volumedriver/1.0) as PluginRoutes:
// each handler decodes the request JSON, calls the VolumeDriver and encodes the reply dockerd
// expects. Malformed requests and driver failures become PluginError ({"Err": ...}).
#pragma once

#include <vector>

#include "common/plugin_server.h"
#include "telemount/volume/volume_driver.h"

namespace tp::telemount {

// The routes call `driver`, which must outlive them (and the PluginServer serving them).
std::vector<PluginRoute> VolumeDriverRoutes(VolumeDriver& driver);

}  // namespace tp::telemount
