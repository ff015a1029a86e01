// What the CLI asks Docker to create, as Engine API specs (the daemon container), and the `docker`
// command lines it still runs as processes (curl, docker-run: the user's own arguments), built as
// argv vectors (never shell text): user input is passed as separate arguments and is never
// interpreted by a shell. Pure functions; they check the names they put in and return an error
// sentence for a bad one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/daemon_control.h"
#include "cli/result.h"
#include "docker_engine/engine_types.h"

namespace tp::cli {

using Argv = std::vector<std::string>;

inline constexpr std::string_view kDaemonImage = "tp-daemon:latest";
inline constexpr std::string_view kCurlImage = "tp-curl:latest";
// The daemon's control API port inside its container; published on 127.0.0.1 at a random port.
inline constexpr uint16_t kDaemonControlPort = 8787;
// Where the daemon container sees the context's secret file (mounted read-only).
inline constexpr std::string_view kDaemonSecretPath = "/run/secrets/tp-daemon-secret";
// The sysctl that turns IPv6 on for every interface of a container.
inline constexpr std::string_view kIpv6Sysctl = "net.ipv6.conf.all.disable_ipv6";
// The daemon container's environment variable holding its control token (daemon/main.cc).
inline constexpr std::string_view kControlTokenVariable = "TP_CONTROL_TOKEN";
// The label that marks a daemon container; its value is the context name.
inline constexpr std::string_view kDaemonLabel = "tp.daemon";

// tp-<context>-cn. Precondition: IsValidContextName(context_name).
std::string DaemonContainerName(std::string_view context_name);

// What the daemon container is started with. It runs on Docker's default bridge network, so the
// traffic-manager address must be reachable from there (not the host's loopback).
struct DaemonContainerOptions {
  std::string context_name{};           // valid per IsValidContextName
  std::string manager_address{};        // HOST:PORT as seen from inside the daemon container
  std::filesystem::path secret_file{};  // absolute host path, without ':'
  bool add_tun_device = false;          // pass /dev/net/tun into the container
  bool write_resolv_conf = true;        // the daemon points its /etc/resolv.conf at its own DNS
  // IPv6 on in the container (Docker turns it off where no network has it), so that the daemon
  // captures IPv6 once a dual-stack Teleroute network is attached. Only where the kernel has it.
  bool enable_ipv6 = false;
  std::string control_token{};  // the daemon's kControlTokenVariable; "" for none
  std::string image = std::string(kDaemonImage);
};

// The daemon container, as `docker run -d --rm --name tp-<ctx>-cn --label tp.daemon=<ctx>
//   --cap-add NET_ADMIN [--device /dev/net/tun] [--sysctl net.ipv6.conf.all.disable_ipv6=0]
//   [-e TP_CONTROL_TOKEN] -p 127.0.0.1::8787
//   -v SECRET:/run/secrets/tp-daemon-secret:ro IMAGE
//   --manager HOST:PORT --secret-file /run/secrets/tp-daemon-secret --control 0.0.0.0:8787
//   --dns 0.0.0.0:53 --name <ctx> [--write-resolv-conf]` would make it (the token travels in the
// API request's body, never in an argv). Never privileged, never a network (Docker's default
// bridge). Errors: an invalid context name, manager address or secret path.
Result<docker::ContainerSpec> DaemonContainerSpec(const DaemonContainerOptions& options);

// The `docker run` command that makes `spec` (in the foreground unless `detached`), for messages
// ("run it in the foreground: ..."). Environment variables appear as `-e NAME` only: their values
// (tokens) stay out of the text; docker takes them from the caller's environment.
Argv RunArgvForDisplay(const docker::ContainerSpec& spec, bool detached);

// docker run --rm -i --init --pull never --network container:tp-<ctx>-cn tp-curl:latest curl
// ARGS... (-i passes stdin through, for curl -d @-; --init makes Ctrl-C stop curl, which as a
// container's PID 1 would ignore it). Errors: an invalid context name or no curl arguments.
Result<Argv> CurlRunCommand(std::string_view context_name,
                            const std::vector<std::string>& curl_args);

// docker run --network NETWORK --dns DNS [--dns-search DOMAIN]... --dns-option ndots:5
// USER_ARGS... : `telepresence docker-run`'s command. The user's words follow unchanged.
// docker run --dns-search tel2-search USER_ARGS...: a container of a daemon on the host (on
// Docker's default bridge, whose DNS is the host's, which the daemon answers).
Argv DockerRunOnHostCommand(const std::vector<std::string>& user_args);

Argv DockerRunOnNetworkCommand(std::string_view network, std::string_view dns,
                               const std::vector<std::string>& search_domains,
                               const std::vector<std::string>& user_args);

// The kinds of Docker objects telepresence creates for a context.
enum class DockerResource { kContainer, kNetwork, kVolume };

// "tp.daemon=<ctx>": the label on everything telepresence creates for a context.
std::string ContextLabel(std::string_view context_name);

// The docker CLI's equivalents of the Engine API calls the CLI makes (for messages and tests).
// docker network connect --ip IP [--ip6 IP6] NETWORK CONTAINER
Argv NetworkConnectCommand(std::string_view network, std::string_view container,
                           std::string_view ip, std::string_view ip6 = {});
// docker network disconnect -f NETWORK CONTAINER
Argv NetworkDisconnectCommand(std::string_view network, std::string_view container);

// The non-empty lines of a command's output, without surrounding white space.
std::vector<std::string> OutputLines(std::string_view output);
// Where the daemon container's control API is: the host port of 8787/tcp (the 127.0.0.1 binding
// when there are several) and the kControlTokenVariable of its environment ("" when unset).
Result<DaemonEndpoint> ControlEndpointOf(const docker::ContainerInfo& container);
// The argv as a user could paste it into a POSIX shell (single-quoted where needed). For display
// only: commands are never run through a shell.
std::string FormatArgvForDisplay(const Argv& argv);

}  // namespace tp::cli
