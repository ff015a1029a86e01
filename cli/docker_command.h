// The `docker` command lines the CLI runs, built as argv vectors (never shell text): user input
// is passed as separate arguments and is never interpreted by a shell. Pure functions; they check
// the names they put into the command and return an error sentence for a bad one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

using Argv = std::vector<std::string>;

inline constexpr std::string_view kDaemonImage = "tp-daemon:latest";
inline constexpr std::string_view kCurlImage = "tp-curl:latest";
// The daemon's control API port inside its container; published on 127.0.0.1 at a random port.
inline constexpr uint16_t kDaemonControlPort = 8787;
// Where the daemon container sees the context's secret file (mounted read-only).
inline constexpr std::string_view kDaemonSecretPath = "/run/secrets/tp-daemon-secret";
// The label that marks a daemon container; its value is the context name.
inline constexpr std::string_view kDaemonLabel = "tp.daemon";

// tp-<context>-cn. Precondition: IsValidContextName(context_name).
std::string DaemonContainerName(std::string_view context_name);

// What the daemon container is started with.
struct DaemonContainerOptions {
  std::string context_name{};           // valid per IsValidContextName
  std::string manager_address{};        // HOST:PORT as seen from inside the daemon container
  std::filesystem::path secret_file{};  // absolute host path, without ':'
  std::string network{};                // Docker network to join; empty: Docker's default
  bool add_tun_device = false;          // pass /dev/net/tun into the container
  std::string image = std::string(kDaemonImage);
};

// docker run --rm -d --pull never --name tp-<ctx>-cn --label tp.daemon=<ctx>
//   --cap-add NET_ADMIN [--device /dev/net/tun] [--network NET] -p 127.0.0.1::8787
//   -v SECRET:/run/secrets/tp-daemon-secret:ro IMAGE
//   --manager HOST:PORT --secret-file /run/secrets/tp-daemon-secret --control 0.0.0.0:8787
//   --dns 0.0.0.0:53 --name <ctx>
// Never --privileged. Errors: an invalid context name, manager address, secret path or network.
Result<Argv> DaemonRunCommand(const DaemonContainerOptions& options);

// docker run --rm --pull never --network container:tp-<ctx>-cn tp-curl:latest curl ARGS...
// Errors: an invalid context name or no curl arguments.
Result<Argv> CurlRunCommand(std::string_view context_name,
                            const std::vector<std::string>& curl_args);

// The argv as a user could paste it into a POSIX shell (single-quoted where needed). For display
// only: commands are never run through a shell.
std::string FormatArgvForDisplay(const Argv& argv);

}  // namespace tp::cli
