// Command-line options of the traffic-manager.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tp::manager {

struct ManagerOptions {
  std::string listen;
  std::string secret_file;
  std::string agent_secret_file;     // empty: no agent is accepted
  std::vector<std::string> subnets;  // empty: the host's interface subnets
  std::vector<std::string> dns_search;
  std::string cluster_domain = "cluster.local";
  std::string dns_server;  // IP[:PORT]; empty: the nameservers of /etc/resolv.conf
  std::string port_file;
  bool help = false;
};

struct ParsedManagerOptions {
  std::optional<ManagerOptions> options;
  std::string error;
};

ParsedManagerOptions ParseManagerOptions(const std::vector<std::string>& arguments);
std::string ManagerUsage();

// The secret in `path`, without trailing white space. Empty with `error` set when the file
// cannot be read or holds no secret.
std::string ReadSecretFile(const std::string& path, std::string& error);

}  // namespace tp::manager
