// Parsing of the `docker volume create -o key=value` options of a Telemount volume into a
// VolumeSpec: which server (RemoteEndpoint) and which absolute folder on it. Pure functions, no
// I/O; every rejected input gets a sentence naming the option. Option values never reach a shell.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

#include "telemount/remote_mount.h"

namespace tp::telemount {

// Root of the traffic-agent's export layout: container C's folder D is at
// /tel_app_exports/C/D on the agent's SFTP server.
inline constexpr const char* kAgentExportsRoot = "/tel_app_exports";

using VolumeOptions = std::map<std::string, std::string>;

// What a volume is: a folder on a remote SFTP server.
struct VolumeSpec {
  RemoteEndpoint endpoint;
  std::string remote_folder;  // absolute, normalized: no ".", "..", empty or trailing components
  bool operator==(const VolumeSpec&) const = default;
};

// Thrown for any option the driver cannot accept; what() names the option and the problem.
class VolumeOptionError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

// Accepted options: host (required), port (required, 1-65535), container (required unless path
// is given; one path component), dir (optional, relative, no ".." component), ro (true/false,
// 1/0, yes/no; an empty value means true), path (an absolute folder; excludes container and
// dir), token (the server's SFTP preface token, common/sftp_preface.h: 32 lower-case hex
// digits). The folder is /tel_app_exports/<container>/<dir>, or <path>. Throws
// VolumeOptionError.
VolumeSpec ParseVolumeOptions(const VolumeOptions& options);

// Docker's rule for volume names, [a-zA-Z0-9][a-zA-Z0-9_.-]*; false for anything else.
bool IsValidVolumeName(const std::string& name);

}  // namespace tp::telemount
