// The pure part of an engagement (replace, intercept, ingest, wiretap; docs/engagements.md): the
// daemon's answers read into structs, the requests sent to it, which ports are engaged and where
// the handler listens, the telemount volumes and the `docker volume create`, `docker build` and
// `docker run` command lines (argv, never shell text), the env file, and the `list` table.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "api/engagement.h"
#include "cli/command_line.h"
#include "cli/docker_command.h"
#include "cli/result.h"

namespace tp::cli {

// The label on an engagement's handler container and volumes; its value is the engagement id.
inline constexpr std::string_view kEngagementLabel = "telepresence.engagement";

// The daemon's answers (api/engagement.h has their one codec).
using api::EngagementGrant;
using api::EngagementSummary;
using api::WorkloadInfo;

// The daemon's answers read with api/engagement.h; a body that cannot be read is an error saying
// so (a daemon of another version).
Result<std::vector<WorkloadInfo>> ParseWorkloads(const nlohmann::json& body);
Result<std::vector<EngagementSummary>> ParseEngagements(const nlohmann::json& body);
Result<EngagementGrant> ParseEngagementGrant(const nlohmann::json& body);

// The engaged workload ports and, for each, the port the handler listens on.
struct EngagedPorts {
  std::vector<uint16_t> workload_ports{};
  std::map<uint16_t, uint16_t> handler_ports{};  // workload port -> handler port
  bool operator==(const EngagedPorts&) const = default;
};

// replace: every workload port, each to the handler's same port unless a --port names it;
// intercept, wiretap: the --port ones, else the first; ingest: none. --port LOCAL:CONTAINER
// engages the workload's port LOCAL (its only port when it has one; with several and no port
// LOCAL, LOCAL is asked for and the manager refuses it, naming the workload's ports) and sends it
// to the handler's port CONTAINER. `workload_ports` may be empty (an unknown workload: the daemon
// then says so).
EngagedPorts ResolvePorts(EngagementMode mode, const std::vector<PortMapping>& ports,
                          const std::vector<uint16_t>& workload_ports);

// POST /engagements' body: `sftp_client` is the host's address on Docker's bridge, the only one
// the daemon's SFTP forward then serves (the telemount plugin connects from there).
api::EngageRequest EngageRequestFor(const EngageCommand& command, const EngagedPorts& ports,
                                    const std::string& sftp_client);

// intercept-<name>-<port>: the first engaged port, else the workload's first, else no port.
std::string HandlerContainerName(const std::string& name, const std::vector<uint16_t>& engaged,
                                 const std::vector<uint16_t>& workload_ports);

// One telemount volume for one remote mount.
struct RemoteVolume {
  std::string name{};        // tp-<engagement name>-<n>, n from 0 in the mounts' order
  std::string mount_path{};  // the workload's mount path ("/srv/echo-data")
  std::string target{};      // where the handler sees it (--docker-mount PATH + mount path)
  bool read_only = false;    // --mount ...:ro
  bool operator==(const RemoteVolume&) const = default;
};

// The volumes to create: every mount (or the --mount one; error when the workload has none of
// that path, or its policy is Local), none with --mount=false, none where the user mounts the
// target already, none of a mount whose policy is Local; read-only where the policy says
// RemoteReadOnly or the user gave --mount ...:ro.
Result<std::vector<RemoteVolume>> PlanVolumes(const EngageCommand& command,
                                              const std::vector<std::string>& mounts,
                                              const api::MountPolicies& policies);

// Where telemount finds the workload's files.
struct SftpSource {
  std::string host{};       // the daemon's address on Docker's default bridge
  uint16_t port = 0;        // the engagement's sftp_port
  std::string container{};  // the workload's container
  std::string token{};      // the engagement's sftp_token ("": none, an older daemon)
};

// The telemount volume, as `docker volume create -d telemount:latest -o host=H -o port=P
//   -o path=/<container><mount> [-o token=T] --label tp.daemon=<ctx>
//   --label telepresence.engagement=<id> NAME` would make it (through the Engine API: the token
// appears in no process's argv).
docker::VolumeSpec VolumeCreateSpec(const RemoteVolume& volume, const SftpSource& source,
                                    std::string_view context_name, std::string_view engagement_id);

// env DOCKER_BUILDKIT=0 docker build -q [--K V]... DIR (the legacy builder: no buildx needed).
// The image id is the last line of its output.
Argv DockerBuildCommand(const std::string& dir,
                        const std::vector<std::pair<std::string, std::string>>& options);

// KEY=VALUE lines for docker run --env-file; variables the format cannot hold (a newline, CR or
// NUL in the key or the value, an empty key, '=' in the key) go to `skipped`, so a workload's
// environment can never add lines of its own.
std::string EnvFileText(const std::map<std::string, std::string>& env,
                        std::vector<std::string>* skipped);

// The connected daemon, as an engagement's plan needs it (engage.cc finds it).
struct DaemonPlacement {
  std::string context_name{};
  std::string network{};  // tp-<ctx>
  std::string dns{};      // the daemon's address on it
  std::vector<std::string> dns_search{};
  std::string bridge_address{};  // the daemon's address on Docker's default bridge (telemount)
  std::string bridge_gateway{};  // the host's on it: where the telemount plugin connects from
  // A daemon on this host (connect without --docker): the handler runs on Docker's default
  // bridge with the host's DNS (--dns-search tel2-search) and publishes each engaged port on
  // 127.0.0.1, where the daemon sends the traffic; `network` and `dns` are unused then, and the
  // volumes are served on 127.0.0.1 (bridge_address and bridge_gateway say so).
  bool on_host = false;
};

// The first half of an engagement's plan, before the engagement exists: the ports, what to ask
// the daemon, and the image to build (if any).
struct EngageStart {
  EngagedPorts ports{};
  api::EngageRequest engage_request{};  // POST /engagements' body
  std::optional<Argv> build{};          // docker build, for --docker-build and --docker-debug
};

// Pure. `workload_ports` are the workload's ports as GET /workloads lists them (empty: unknown).
EngageStart PlanEngageStart(const EngageCommand& command,
                            const std::vector<uint16_t>& workload_ports,
                            const DaemonPlacement& daemon);

// What the second half is planned from: the daemon, the first half, the daemon's grant, and the
// two things Docker made in between.
struct EngagementInputs {
  DaemonPlacement daemon{};
  std::vector<uint16_t> workload_ports{};
  EngagedPorts ports{};  // EngageStart::ports
  EngagementGrant grant{};
  std::string image{};          // the user's image, or the one built
  std::string env_file_path{};  // the private file the handler's docker run reads
};

// One telemount volume to create, and the workload mount it serves (for messages).
struct PlannedVolume {
  std::string mount_path{};
  docker::VolumeSpec spec{};
};

// Everything the executor does for an engagement once the daemon granted it, decided up front.
struct EngagementPlan {
  std::string workload{};  // the engaged workload, as the user named it
  std::string engagement_id{};
  std::string container{};  // the handler's name: the user's --name, else intercept-<name>-<port>
  std::string env_file_text{};                   // KEY=VALUE lines (EnvFileText)
  std::vector<std::string> skipped_variables{};  // those the env file cannot hold
  std::optional<std::string> user_env_file{};    // --env-file FILE: also written there
  std::vector<PlannedVolume> volumes{};          // created in order before docker run
  Argv run{};                                    // the handler's docker run
  std::map<uint16_t, uint16_t> handler_ports{};  // POST .../handler's ports, with its address
  std::string handler_network{};                 // where the handler container gets an address
  // Where the daemon reaches the handler: "" for its address on handler_network; "127.0.0.1"
  // (its published ports) for a daemon on the host.
  std::string handler_address{};
};

// A daemon on the host reaches the handler through ports published on 127.0.0.1: for each
// engaged workload port, the host's port. --port LOCAL:CONTAINER publishes LOCAL (the seeds'
// meaning when the daemon runs on the host); otherwise the handler's own port.
std::map<uint16_t, uint16_t> PublishedPorts(const std::vector<PortMapping>& ports,
                                            const EngagedPorts& engaged,
                                            const std::vector<uint16_t>& workload_ports);

// The whole plan (pure). Error: --mount PATH names no mount of the workload.
//   docker run --network N --dns D [--dns-search S]... --dns-option ndots:5 [--rm] [--name NAME]
//     --label tp.daemon=CTX --label telepresence.engagement=ID --env-file F [-v VOLUME:TARGET]...
//     [--cap-add SYS_PTRACE --security-opt seccomp=unconfined] USER_FLAGS... IMAGE ARGS...
// For a daemon on the host: docker run --dns-search tel2-search ... [-p 127.0.0.1:LOCAL:PORT]...
// before the user's flags (no --network, no --dns: Docker's default bridge, the host's DNS).
// --rm only when the user's flags have no --rm (also --rm=false), --name only without theirs.
// The user's flags follow ours verbatim and in order, so theirs win where docker lets the later
// flag win (-e over our --env-file, their --env-file after ours, --label, ...).
Result<EngagementPlan> PlanEngagement(const EngageCommand& command, const EngagementInputs& inputs);

// `telepresence list`: "WORKLOAD  PORTS  ENGAGEMENT" and a row per workload.
std::string FormatWorkloadTable(const std::vector<WorkloadInfo>& workloads);

}  // namespace tp::cli
