#include "cli/docker_command.h"

#include <algorithm>

#include "cli/validation.h"

namespace tp::cli {
namespace {

CliError InvalidContextName(std::string_view name) {
  return CliError{"invalid context name '" + std::string(name) + "' (" +
                  std::string(ContextNameRule()) + ")"};
}

// Docker network names: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool IsValidNetworkName(std::string_view name) {
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  return !name.empty() && std::all_of(name.begin(), name.end(), allowed) && name.front() != '_' &&
         name.front() != '.' && name.front() != '-';
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
  if (!options.network.empty() && !IsValidNetworkName(options.network)) {
    return CliError{"invalid Docker network name '" + options.network +
                    "'; use letters, digits, '_', '.' and '-'"};
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
            "--rm",      "-d",
            "--pull",    "never",
            "--name",    DaemonContainerName(options.context_name),
            "--label",   std::string(kDaemonLabel) + "=" + options.context_name,
            "--cap-add", "NET_ADMIN"};
  if (options.add_tun_device) argv.insert(argv.end(), {"--device", "/dev/net/tun"});
  if (!options.network.empty()) argv.insert(argv.end(), {"--network", options.network});
  argv.insert(argv.end(),
              {"-p", "127.0.0.1::" + control_port, "-v",
               options.secret_file.string() + ":" + std::string(kDaemonSecretPath) + ":ro",
               options.image, "--manager", options.manager_address, "--secret-file",
               std::string(kDaemonSecretPath), "--control", "0.0.0.0:" + control_port, "--dns",
               "0.0.0.0:53", "--name", options.context_name});
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
            "--pull",
            "never",
            "--network",
            "container:" + DaemonContainerName(context_name),
            std::string(kCurlImage),
            "curl"};
  argv.insert(argv.end(), curl_args.begin(), curl_args.end());
  return argv;
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
