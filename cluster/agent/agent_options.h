// Command-line options of the traffic-agent, and the small files it reads at start (the shared
// secret, the app's environment file). Pure: parsing only, no sockets.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/mount_policy.h"

namespace tp::agent {

struct AgentOptions {
  std::string manager_host;  // from --manager HOST:PORT
  uint16_t manager_port = 0;
  std::string secret_file;
  std::string workload;
  std::string container;
  std::vector<uint16_t> ports;  // the workload's TCP ports, in order, no duplicates
  std::string app_address = "127.0.0.1";
  std::string app_env_file;  // empty: no environment to report
  // --mount PATH[:POLICY]: absolute paths in the app container, without the Ignore ones, and
  // the policies of those that are not Remote (api/mount_policy.h).
  std::vector<std::string> mounts;
  api::MountPolicies mount_policies;
  std::string exports = "/tel_app_exports";
  uint16_t sftp_port = 8022;
  std::string sftp_server = "/usr/lib/openssh/sftp-server";
  std::string chroot_library;  // empty: libtp_chroot.so next to the executable
  bool help = false;
};

struct ParsedAgentOptions {
  std::optional<AgentOptions> options;
  std::string error;
};

ParsedAgentOptions ParseAgentOptions(const std::vector<std::string>& arguments);
std::string AgentUsage();

// KEY=VALUE lines as `docker run --env-file` reads them: blank lines and lines starting with #
// are skipped, the value is everything after the first '=' (verbatim, no quote removal), a line
// without '=' or with an empty key is an error (its 1-based number in `error`).
std::optional<std::map<std::string, std::string>> ParseEnvText(const std::string& text,
                                                               std::string& error);

// The whole of a small file; nullopt with `error` set when it cannot be read.
std::optional<std::string> ReadTextFile(const std::string& path, std::string& error);

// The secret in `path` without trailing white space; empty with `error` set when the file
// cannot be read or holds no secret.
std::string ReadSecretFile(const std::string& path, std::string& error);

}  // namespace tp::agent
