// What `telepresence compose` reads of a compose file: its services, and the `x-tele` extension
// that says how each one meets the cluster (README, "Compose"). Pure: the text comes in, values or
// a sentence naming the file, the service and the key come out; no I/O, no global state.
//
//   x-tele:                    # top level, optional
//     context: NAME            # the telepresence context (--context wins)
//   services:
//     local-echo:
//       x-tele:
//         type: replace        # connect | replace | intercept | ingest | wiretap
//         name: echo           # the workload (default: the service's name)
//         ports: ["8080:8081"] # LOCAL[:CONTAINER], as --port (replace, intercept, wiretap)
//         mounts:              # per workload mount path; a path not listed is remote
//           - {path: /srv/echo-data, policy: remote}   # remote | remoteReadOnly | local
//
// A service without `x-tele` is connected (the cluster's network and DNS), as `type: connect`;
// one with `network_mode` is left as it is.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/mount_policy.h"
#include "cli/command_line.h"
#include "cli/result.h"

namespace tp::cli {

// How a workload mount reaches an engaged service (api/mount_policy.h). A compose file spells
// them remote, remoteReadOnly and local (the service keeps what the compose file mounts there).
using MountPolicy = api::MountPolicy;

struct MountRule {
  std::string path{};  // the workload's mount path, without trailing slashes
  MountPolicy policy = MountPolicy::kRemote;
  bool operator==(const MountRule&) const = default;
};

// A service that engages a workload.
struct ServiceEngagement {
  EngagementMode mode = EngagementMode::kReplace;
  std::string workload{};  // a DNS label
  std::vector<PortMapping> ports{};
  std::vector<MountRule> mounts{};
  bool operator==(const ServiceEngagement&) const = default;
};

struct ComposeService {
  std::string name{};
  bool has_networks = false;      // declares `networks:` itself (no implicit default network)
  bool has_network_mode = false;  // `network_mode:` (host, service:X, ...): left alone
  std::optional<ServiceEngagement> engagement{};  // nullopt: connect only
  bool operator==(const ComposeService&) const = default;
};

// The services of one or more compose files, in the order the files list them.
struct ComposeProject {
  std::optional<std::string> context_name{};  // the top-level x-tele's context
  std::vector<ComposeService> services{};
  bool operator==(const ComposeProject&) const = default;
};

// Reads one compose file's text (`file_name` only names it in errors). Errors: not YAML, no
// services mapping, an unknown x-tele key or type, a workload name or port that is not one, a
// mount policy that is none of the three, two services engaging one workload.
Result<ComposeProject> ParseComposeFile(std::string_view yaml_text, const std::string& file_name);

// The files as `docker-compose -f A -f B` merges them: B's services after A's new ones; a
// service B names again keeps A's place, and B's x-tele (when it has one) and network keys
// replace A's. A later top-level context wins. Error: two services engaging one workload.
Result<ComposeProject> MergeComposeFiles(const std::vector<ComposeProject>& files);

// The service's x-tele type as written ("replace", ..., "connect").
std::string_view TeleTypeName(const ComposeService& service);

}  // namespace tp::cli
