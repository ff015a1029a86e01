// A release file of `make dist` (scripts/dist.sh), as far as `telepresence plugins install --from`
// reads it: telepresence-docker-VERSION/VERSION and .../plugins/NAME.tar (NAME: teleroute,
// telemount; each a tar of config.json and rootfs/, what docker plugin create sends).
//
// Reading runs GNU tar on the file into a private temporary folder (removed before returning),
// extracting only those members (tar keeps them inside that folder: no absolute paths, no ..).
#pragma once

#include <filesystem>
#include <map>
#include <string>

#include "cli/context.h"
#include "cli/result.h"

namespace tp::cli {

struct PluginArchive {
  std::string version;                         // its VERSION file
  std::map<std::string, std::string> plugins;  // bare name -> the plugin's tar
};

// Errors: the file cannot be read or is not such a release file (the message names it), a
// plugin's tar is missing or larger than kMaxPluginTarBytes.
Result<PluginArchive> ReadPluginArchive(const std::filesystem::path& file,
                                        const EnvironmentLookup& environment);

inline constexpr size_t kMaxPluginTarBytes = 256u << 20;

}  // namespace tp::cli
