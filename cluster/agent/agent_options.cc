#include "cluster/agent/agent_options.h"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <string_view>

#include "net/host_port.h"

namespace tp::agent {
namespace {

// Applies "--mount PATH[:POLICY]"; "" or what is wrong.
std::string AddMount(const std::string& value, AgentOptions& options) {
  std::string path = value;
  api::MountPolicy policy = api::MountPolicy::kRemote;
  if (const auto colon = value.rfind(':'); colon != std::string::npos) {
    const std::optional<api::MountPolicy> named = api::ParseMountPolicy(value.substr(colon + 1));
    if (!named) {
      return "--mount wants PATH or PATH:POLICY with POLICY one of " + api::MountPolicyNames() +
             ", got " + value;
    }
    path = value.substr(0, colon);
    policy = *named;
  }
  if (path.empty() || path.front() != '/') return "--mount wants an absolute path, got " + value;
  if (policy == api::MountPolicy::kIgnore) return "";  // engagements never hear of it
  options.mounts.push_back(path);
  if (policy != api::MountPolicy::kRemote) options.mount_policies[path] = policy;
  return "";
}

// Applies one "--flag value"; "" or what is wrong.
std::string Apply(AgentOptions& options, const std::string& flag, const std::string& value) {
  if (flag == "--manager") {
    const std::optional<HostPort> manager = ParseHostPort(value);
    if (!manager || manager->port == 0) return "--manager wants HOST:PORT, got " + value;
    options.manager_host = manager->host;
    options.manager_port = manager->port;
  } else if (flag == "--secret-file") {
    options.secret_file = value;
  } else if (flag == "--workload") {
    options.workload = value;
  } else if (flag == "--container") {
    options.container = value;
  } else if (flag == "--port" || flag == "--sftp-port") {
    const auto port = ParseServicePort(value);
    if (!port) return flag + " wants an integer from 1 to 65535, got " + value;
    if (flag == "--sftp-port") {
      options.sftp_port = *port;
    } else if (std::find(options.ports.begin(), options.ports.end(), *port) ==
               options.ports.end()) {
      options.ports.push_back(*port);
    }
  } else if (flag == "--app-address") {
    options.app_address = value;
  } else if (flag == "--app-env-file") {
    options.app_env_file = value;
  } else if (flag == "--mount") {
    return AddMount(value, options);
  } else if (flag == "--exports") {
    options.exports = value;
  } else if (flag == "--sftp-server") {
    options.sftp_server = value;
  } else if (flag == "--chroot-library") {
    options.chroot_library = value;
  } else {
    return "unknown argument " + flag;
  }
  return "";
}

std::string CheckRequired(const AgentOptions& options) {
  if (options.manager_host.empty()) return "--manager is required";
  if (options.secret_file.empty()) return "--secret-file is required";
  if (options.workload.empty()) return "--workload is required";
  if (options.container.empty()) return "--container is required";
  if (options.ports.empty()) return "at least one --port is required";
  return "";
}

}  // namespace

ParsedAgentOptions ParseAgentOptions(const std::vector<std::string>& arguments) {
  AgentOptions options;
  for (size_t i = 0; i < arguments.size(); ++i) {
    std::string flag = arguments[i];
    if (flag == "--help" || flag == "-h") {
      options.help = true;
      return {options, ""};
    }
    std::string value;
    if (const auto equals = flag.find('='); flag.starts_with("--") && equals != std::string::npos) {
      value = flag.substr(equals + 1);
      flag = flag.substr(0, equals);
    } else if (i + 1 < arguments.size()) {
      value = arguments[++i];
    } else {
      return {std::nullopt, flag + " needs a value"};
    }
    if (std::string error = Apply(options, flag, value); !error.empty()) {
      return {std::nullopt, error};
    }
  }
  if (std::string error = CheckRequired(options); !error.empty()) return {std::nullopt, error};
  return {options, ""};
}

std::string AgentUsage() {
  return "usage: traffic-agent --manager HOST:PORT --secret-file FILE --workload NAME\n"
         "         --container NAME --port PORT [--port PORT]... [options]\n"
         "\n"
         "The sidecar of one workload: it shares the workload's network namespace, listens on\n"
         "the pod's address on every workload port and forwards connections to the app (or,\n"
         "while an engagement says so, through the traffic-manager to a local handler), and\n"
         "serves the app's volumes over SFTP.\n"
         "\n"
         "  --manager HOST:PORT     the traffic-manager's tunnel port\n"
         "  --secret-file FILE      the tunnel's shared secret\n"
         "  --workload NAME         the workload this agent stands for\n"
         "  --container NAME        the app container's name (folder under --exports)\n"
         "  --port PORT             a TCP port of the app (repeatable)\n"
         "  --app-address ADDRESS   where the app listens (default 127.0.0.1)\n"
         "  --app-env-file FILE     the app's environment, KEY=VALUE lines\n"
         "  --mount PATH[:POLICY]   a mount path of the app container (repeatable), with the\n"
         "                          workload's policy for it: Remote (default), RemoteReadOnly,\n"
         "                          Local (never mounted from here) or Ignore (not reported)\n"
         "  --exports DIR           the exported tree (default /tel_app_exports)\n"
         "  --sftp-port PORT        the SFTP port on the pod's address (default 8022)\n"
         "  --sftp-server PATH      OpenSSH's sftp-server (default /usr/lib/openssh/sftp-server)\n"
         "  --chroot-library PATH   libtp_chroot.so (default: next to this executable)\n"
         "  --help                  this text\n";
}

std::optional<std::map<std::string, std::string>> ParseEnvText(const std::string& text,
                                                               std::string& error) {
  std::map<std::string, std::string> env;
  std::istringstream lines(text);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    if (line.front() == '#') continue;
    const auto equals = line.find('=');
    if (equals == std::string::npos || equals == 0) {
      error = "line " + std::to_string(number) + " is not KEY=VALUE";
      return std::nullopt;
    }
    env[line.substr(0, equals)] = line.substr(equals + 1);
  }
  return env;
}

std::optional<std::string> ReadTextFile(const std::string& path, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = "cannot read " + path;
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string ReadSecretFile(const std::string& path, std::string& error) {
  auto text = ReadTextFile(path, error);
  if (!text) return "";
  while (!text->empty() && std::isspace(static_cast<unsigned char>(text->back()))) {
    text->pop_back();
  }
  if (text->empty()) error = path + " holds no secret";
  return *text;
}

}  // namespace tp::agent
