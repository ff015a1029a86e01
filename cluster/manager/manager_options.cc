#include "cluster/manager/manager_options.h"

#include <fstream>
#include <sstream>

namespace tp::manager {
namespace {

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  std::istringstream stream(text);
  std::string part;
  while (std::getline(stream, part, ',')) {
    if (!part.empty()) parts.push_back(part);
  }
  return parts;
}

}  // namespace

std::string ManagerUsage() {
  return "usage: traffic-manager --listen HOST:PORT --secret-file FILE [options]\n"
         "\n"
         "The cluster end of the Telepresence tunnel: authenticates daemons with a shared\n"
         "secret, dials cluster addresses for them, relays UDP, forwards DNS queries.\n"
         "\n"
         "  --listen HOST:PORT        where daemons connect (port 0 picks one)\n"
         "  --secret-file FILE        the daemons' shared secret (trailing white space\n"
         "                            ignored)\n"
         "  --agent-secret-file FILE  the traffic-agents' secret, which must differ from the\n"
         "                            daemons' (without it, no agent is accepted)\n"
         "  --subnets CIDR,...        the cluster's subnets (default: this host's IPv4\n"
         "                            interface subnets, loopback excluded)\n"
         "  --dns-search a,b          DNS search domains for the daemon\n"
         "  --cluster-domain DOMAIN   the cluster's DNS domain (default cluster.local)\n"
         "  --dns-server IP[:PORT]    forward DNS here (default: /etc/resolv.conf nameservers)\n"
         "  --port-file FILE          write the listening port to FILE\n"
         "  --help                    this text\n"
         "\n"
         "SIGTERM or SIGINT closes every tunnel and exits 0.\n";
}

ParsedManagerOptions ParseManagerOptions(const std::vector<std::string>& arguments) {
  ManagerOptions options;
  for (size_t index = 0; index < arguments.size(); ++index) {
    const std::string& flag = arguments[index];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      return {options, ""};
    }
    if (index + 1 >= arguments.size())
      return {std::nullopt, "unknown flag or missing value: " + flag};
    const std::string& value = arguments[++index];
    if (flag == "--listen") {
      options.listen = value;
    } else if (flag == "--secret-file") {
      options.secret_file = value;
    } else if (flag == "--agent-secret-file") {
      options.agent_secret_file = value;
    } else if (flag == "--subnets") {
      options.subnets = SplitCommas(value);
    } else if (flag == "--dns-search") {
      options.dns_search = SplitCommas(value);
    } else if (flag == "--cluster-domain") {
      options.cluster_domain = value;
    } else if (flag == "--dns-server") {
      options.dns_server = value;
    } else if (flag == "--port-file") {
      options.port_file = value;
    } else {
      return {std::nullopt, "unknown flag: " + flag};
    }
  }
  if (options.listen.empty()) return {std::nullopt, "--listen HOST:PORT is required"};
  if (options.secret_file.empty()) return {std::nullopt, "--secret-file FILE is required"};
  return {options, ""};
}

std::string ReadSecretFile(const std::string& path, std::string& error) {
  std::ifstream file(path);
  if (!file) {
    error = "cannot read the secret file " + path;
    return "";
  }
  std::stringstream contents;
  contents << file.rdbuf();
  std::string secret = contents.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) error = "the secret file " + path + " is empty";
  return secret;
}

}  // namespace tp::manager
