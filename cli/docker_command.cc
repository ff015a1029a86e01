#include "cli/docker_command.h"

#include <algorithm>
#include <charconv>
#include <nlohmann/json.hpp>

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

Result<Argv> DaemonRunCommand(const DaemonContainerOptions& options) {
  if (Status status = CheckDaemonOptions(options); !status.ok()) return status.error();
  std::string control_port = std::to_string(kDaemonControlPort);
  Argv argv{"docker",    "run",
            "-d",        "--rm",
            "--pull",    "never",
            "--name",    DaemonContainerName(options.context_name),
            "--label",   std::string(kDaemonLabel) + "=" + options.context_name,
            "--cap-add", "NET_ADMIN"};
  if (options.add_tun_device) argv.insert(argv.end(), {"--device", "/dev/net/tun"});
  if (!options.env_file.empty()) argv.insert(argv.end(), {"--env-file", options.env_file});
  argv.insert(argv.end(),
              {"-p", "127.0.0.1::" + control_port, "-v",
               options.secret_file.string() + ":" + std::string(kDaemonSecretPath) + ":ro",
               options.image, "--manager", options.manager_address, "--secret-file",
               std::string(kDaemonSecretPath), "--control", "0.0.0.0:" + control_port, "--dns",
               "0.0.0.0:53", "--name", options.context_name});
  if (options.write_resolv_conf) argv.push_back("--write-resolv-conf");
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

Argv ContainerStateCommand(std::string_view container) {
  return {"docker",   "ps",        "-a", "--filter", "name=^" + std::string(container) + "$",
          "--format", "{{.State}}"};
}

Argv ImageIdCommand(std::string_view image) {
  return {"docker", "image", "ls", "-q", std::string(image)};
}

Argv ControlEndpointCommand(std::string_view container) {
  return {"docker",
          "inspect",
          "--type",
          "container",
          "--format",
          "{{json .NetworkSettings.Ports}}{{\"\\n\"}}{{json .Config.Env}}",
          std::string(container)};
}

Argv ListLabelledCommand(DockerResource kind, std::string_view label) {
  std::string filter = "label=" + std::string(label);
  switch (kind) {
    case DockerResource::kContainer:
      return {"docker", "ps", "-a", "--filter", filter, "--format", "{{.Names}}"};
    case DockerResource::kNetwork:
      return {"docker", "network", "ls", "--filter", filter, "--format", "{{.Name}}"};
    case DockerResource::kVolume:
      return {"docker", "volume", "ls", "--filter", filter, "--format", "{{.Name}}"};
  }
  return {};
}

Argv RemoveCommand(DockerResource kind, const std::vector<std::string>& names) {
  Argv argv;
  switch (kind) {
    case DockerResource::kContainer:
      argv = {"docker", "rm", "-f"};
      break;
    case DockerResource::kNetwork:
      argv = {"docker", "network", "rm"};
      break;
    case DockerResource::kVolume:
      argv = {"docker", "volume", "rm", "-f"};
      break;
  }
  argv.insert(argv.end(), names.begin(), names.end());
  return argv;
}

Argv PluginEnabledCommand(std::string_view plugin) {
  return {"docker", "plugin", "inspect", "--format", "{{.Enabled}}", std::string(plugin)};
}

Argv PluginEnableCommand(std::string_view plugin) {
  return {"docker", "plugin", "enable", std::string(plugin)};
}

Argv NetworkIdsCommand() { return {"docker", "network", "ls", "-q", "--no-trunc"}; }

Argv NetworkInspectCommand(const std::vector<std::string>& names) {
  Argv argv{"docker", "network", "inspect"};
  argv.insert(argv.end(), names.begin(), names.end());
  return argv;
}

Argv NetworkConnectCommand(std::string_view network, std::string_view container,
                           std::string_view ip) {
  return {"docker",
          "network",
          "connect",
          "--ip",
          std::string(ip),
          std::string(network),
          std::string(container)};
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

std::optional<std::string> ParseContainerState(std::string_view output) {
  std::vector<std::string> lines = OutputLines(output);
  if (lines.empty()) return std::nullopt;
  return lines.front();
}

namespace {

// The host port of one of Docker's port bindings ({"HostIp": "...", "HostPort": "49153"}).
std::optional<uint16_t> BindingPort(const nlohmann::json& binding) {
  if (!binding.is_object() || !binding.contains("HostPort")) return std::nullopt;
  const nlohmann::json& text = binding["HostPort"];
  if (!text.is_string()) return std::nullopt;
  const std::string& port_text = text.get_ref<const std::string&>();
  uint32_t port = 0;
  auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (port_text.empty() || error != std::errc() || end != port_text.data() + port_text.size() ||
      port == 0 || port > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(port);
}

// The 127.0.0.1 binding's port when there is one, else the first binding's.
std::optional<uint16_t> ControlPort(const nlohmann::json& ports) {
  const std::string key = std::to_string(kDaemonControlPort) + "/tcp";
  if (!ports.is_object() || !ports.contains(key) || !ports[key].is_array()) return std::nullopt;
  const nlohmann::json& bindings = ports[key];
  for (const nlohmann::json& binding : bindings) {
    if (binding.is_object() && binding.value("HostIp", "") == "127.0.0.1") {
      return BindingPort(binding);
    }
  }
  if (bindings.empty()) return std::nullopt;
  return BindingPort(bindings.front());
}

std::string ControlToken(const nlohmann::json& environment) {
  const std::string prefix = std::string(kControlTokenVariable) + "=";
  if (!environment.is_array()) return "";
  for (const nlohmann::json& entry : environment) {
    if (entry.is_string() && entry.get_ref<const std::string&>().starts_with(prefix)) {
      return entry.get<std::string>().substr(prefix.size());
    }
  }
  return "";
}

}  // namespace

Result<DaemonEndpoint> ParseControlEndpoint(std::string_view output) {
  std::vector<std::string> lines = OutputLines(output);
  const CliError unreadable{"cannot read the daemon's control port " +
                            std::to_string(kDaemonControlPort) +
                            "/tcp from docker inspect's "
                            "output '" +
                            std::string(output) + "'"};
  if (lines.size() != 2) return unreadable;
  const nlohmann::json ports = nlohmann::json::parse(lines[0], nullptr, false);
  const nlohmann::json environment = nlohmann::json::parse(lines[1], nullptr, false);
  std::optional<uint16_t> port = ControlPort(ports);
  if (!port) return unreadable;
  return DaemonEndpoint{.port = *port, .token = ControlToken(environment)};
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
