#include "cli/docker_command.h"

#include <algorithm>
#include <charconv>

#include "cli/validation.h"

namespace tp::cli {
namespace {

CliError InvalidContextName(std::string_view name) {
  return CliError{"invalid context name '" + std::string(name) + "' (" +
                  std::string(ContextNameRule()) + ")"};
}

Status CheckDaemonOptions(const DaemonContainerOptions& options) {
  if (!IsValidContextName(options.context_name)) return InvalidContextName(options.context_name);
  if (!IsHostPort(options.manager_address)) {
    return CliError{"invalid manager address '" + options.manager_address +
                    "': use HOST:PORT, e.g. 127.0.0.1:8081"};
  }
  std::string secret = options.secret_file.string();
  if (!options.secret_file.is_absolute() || secret.find(':') != std::string::npos) {
    return CliError{"the secret file '" + secret +
                    "' must be an absolute path without ':' to be mounted into the daemon "
                    "container; move it or fix the context"};
  }
  if (options.image.empty()) return CliError{"no daemon image given"};
  return Ok{};
}

bool NeedsShellQuoting(std::string_view word) {
  auto plain = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("-_./:=,@%+").find(c) != std::string_view::npos;
  };
  return word.empty() || !std::all_of(word.begin(), word.end(), plain);
}

std::string ShellQuote(std::string_view word) {
  if (!NeedsShellQuoting(word)) return std::string(word);
  std::string quoted = "'";
  for (char c : word) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace

std::string DaemonContainerName(std::string_view context_name) {
  return "tp-" + std::string(context_name) + "-cn";
}

Result<docker::ContainerSpec> DaemonContainerSpec(const DaemonContainerOptions& options) {
  if (Status status = CheckDaemonOptions(options); !status.ok()) return status.error();
  const std::string control_port = std::to_string(kDaemonControlPort);
  docker::ContainerSpec spec{
      .name = DaemonContainerName(options.context_name),
      .image = options.image,
      .cmd = {"--manager", options.manager_address, "--secret-file", std::string(kDaemonSecretPath),
              "--control", "0.0.0.0:" + control_port, "--dns", "0.0.0.0:53", "--name",
              options.context_name},
      .labels = {{std::string(kDaemonLabel), options.context_name}},
      .cap_add = {"NET_ADMIN"},
      .ports = {{control_port + "/tcp", "127.0.0.1", ""}},
      .binds = {{options.secret_file.string(), std::string(kDaemonSecretPath), true}},
      .auto_remove = true};
  if (options.write_resolv_conf) spec.cmd.push_back("--write-resolv-conf");
  if (options.add_tun_device) spec.devices.push_back("/dev/net/tun");
  if (options.enable_ipv6) spec.sysctls[std::string(kIpv6Sysctl)] = "0";
  if (!options.control_token.empty()) {
    spec.env.push_back(std::string(kControlTokenVariable) + "=" + options.control_token);
  }
  return spec;
}

Argv RunArgvForDisplay(const docker::ContainerSpec& spec, bool detached) {
  Argv argv{"docker", "run"};
  if (detached) argv.push_back("-d");
  if (spec.auto_remove) argv.push_back("--rm");
  if (spec.init) argv.push_back("--init");
  argv.insert(argv.end(), {"--pull", "never"});
  if (!spec.name.empty()) argv.insert(argv.end(), {"--name", spec.name});
  for (const auto& [key, value] : spec.labels)
    argv.insert(argv.end(), {"--label", key + "=" + value});
  for (const std::string& capability : spec.cap_add)
    argv.insert(argv.end(), {"--cap-add", capability});
  for (const std::string& device : spec.devices) argv.insert(argv.end(), {"--device", device});
  for (const auto& [key, value] : spec.sysctls)
    argv.insert(argv.end(), {"--sysctl", key + "=" + value});
  for (const std::string& variable : spec.env) {
    argv.insert(argv.end(), {"-e", variable.substr(0, variable.find('='))});
  }
  for (const docker::PortBinding& port : spec.ports) {
    std::string container_port = port.container_port.substr(0, port.container_port.find("/tcp"));
    argv.insert(argv.end(), {"-p", port.host_ip + ":" + port.host_port + ":" + container_port});
  }
  for (const docker::BindMount& bind : spec.binds) {
    argv.insert(argv.end(),
                {"-v", bind.source + ":" + bind.target + (bind.read_only ? ":ro" : "")});
  }
  if (!spec.network_mode.empty()) argv.insert(argv.end(), {"--network", spec.network_mode});
  argv.push_back(spec.image);
  argv.insert(argv.end(), spec.cmd.begin(), spec.cmd.end());
  return argv;
}

Result<Argv> CurlRunCommand(std::string_view context_name,
                            const std::vector<std::string>& curl_args) {
  if (!IsValidContextName(context_name)) return InvalidContextName(context_name);
  if (curl_args.empty()) {
    return CliError{"curl needs at least a URL; see telepresence curl --help"};
  }
  Argv argv{"docker",
            "run",
            "--rm",
            "-i",
            "--init",
            "--pull",
            "never",
            "--network",
            "container:" + DaemonContainerName(context_name),
            std::string(kCurlImage),
            "curl"};
  argv.insert(argv.end(), curl_args.begin(), curl_args.end());
  return argv;
}

Argv DockerRunOnHostCommand(const std::vector<std::string>& user_args) {
  Argv argv{"docker", "run", "--dns-search", "tel2-search"};
  argv.insert(argv.end(), user_args.begin(), user_args.end());
  return argv;
}

Argv DockerRunOnNetworkCommand(std::string_view network, std::string_view dns,
                               const std::vector<std::string>& search_domains,
                               const std::vector<std::string>& user_args) {
  Argv argv{"docker", "run", "--network", std::string(network), "--dns", std::string(dns)};
  for (const std::string& domain : search_domains) {
    argv.insert(argv.end(), {"--dns-search", domain});
  }
  argv.insert(argv.end(), {"--dns-option", "ndots:5"});
  argv.insert(argv.end(), user_args.begin(), user_args.end());
  return argv;
}

std::string ContextLabel(std::string_view context_name) {
  return std::string(kDaemonLabel) + "=" + std::string(context_name);
}

Argv NetworkConnectCommand(std::string_view network, std::string_view container,
                           std::string_view ip, std::string_view ip6) {
  Argv argv{"docker", "network", "connect", "--ip", std::string(ip)};
  if (!ip6.empty()) argv.insert(argv.end(), {"--ip6", std::string(ip6)});
  argv.insert(argv.end(), {std::string(network), std::string(container)});
  return argv;
}

Argv NetworkDisconnectCommand(std::string_view network, std::string_view container) {
  return {"docker", "network", "disconnect", "-f", std::string(network), std::string(container)};
}

std::vector<std::string> OutputLines(std::string_view output) {
  std::vector<std::string> lines;
  while (!output.empty()) {
    size_t end = output.find('\n');
    std::string_view line = output.substr(0, end);
    output = end == std::string_view::npos ? std::string_view() : output.substr(end + 1);
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) continue;
    size_t last = line.find_last_not_of(" \t\r");
    lines.emplace_back(line.substr(first, last - first + 1));
  }
  return lines;
}

namespace {

// A port binding's host port ("49153"); nullopt when it is not a port number.
std::optional<uint16_t> HostPort(const std::string& text) {
  uint32_t port = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || port == 0 ||
      port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

std::string ControlToken(const std::vector<std::string>& environment) {
  const std::string prefix = std::string(kControlTokenVariable) + "=";
  for (const std::string& entry : environment) {
    if (entry.starts_with(prefix)) return entry.substr(prefix.size());
  }
  return "";
}

}  // namespace

Result<DaemonEndpoint> ControlEndpointOf(const docker::ContainerInfo& container) {
  const std::string key = std::to_string(kDaemonControlPort) + "/tcp";
  std::optional<uint16_t> port;
  for (const docker::PortBinding& binding : container.published_ports) {
    if (binding.container_port != key) continue;
    std::optional<uint16_t> this_port = HostPort(binding.host_port);
    if (!port || binding.host_ip == "127.0.0.1") port = this_port;
    if (binding.host_ip == "127.0.0.1") break;
  }
  if (!port) {
    return CliError{"the daemon container " + container.name + " publishes no control port " + key};
  }
  return DaemonEndpoint{.port = *port, .token = ControlToken(container.env)};
}

std::string FormatArgvForDisplay(const Argv& argv) {
  std::string text;
  for (const std::string& word : argv) {
    if (!text.empty()) text += ' ';
    text += ShellQuote(word);
  }
  return text;
}

}  // namespace tp::cli
