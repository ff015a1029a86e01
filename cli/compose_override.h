// The override file `telepresence compose` gives docker-compose after the user's files
// (`-f FILE... -f OVERRIDE`), and the telemount volumes of the engaged services. Pure: the
// project's services, the daemon and what was engaged come in; the JSON document (valid YAML,
// which is what docker-compose 1.29 reads) and the volume specs come out.
//
// Every service that joins the cluster (all but those with network_mode) gets the Teleroute
// network tp-<ctx> (beside the project's default network, unless it names networks itself), the
// daemon as DNS server with the cluster's search domains and ndots:5, and the context's label (so
// `telepresence quit` removes it with the daemon). An engaged service also gets the workload's
// env file, a telemount volume per remote mount (at the mount's path, `:ro` for remoteReadOnly)
// and the label telepresence.engagement=<id>, by which its container is found.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/compose_spec.h"
#include "cli/engagement_plan.h"

namespace tp::cli {

// The label on what `telepresence compose` creates for a project (volumes); its value is the
// project's name.
inline constexpr std::string_view kComposeProjectLabel = "telepresence.compose.project";

// One telemount volume of an engaged service.
struct ComposeVolume {
  std::string mount_path{};  // the workload's
  bool read_only = false;
  docker::VolumeSpec spec{};
};

// The volumes for a service's engagement: one per mount of the workload (`grant.mounts`) whose
// rule is not local, named tp-<project>-<service>-<n> (n: the mount's index), served by the
// engagement's SFTP forward on the daemon's bridge address. Error: a rule names a path that is no
// mount of the workload. Precondition: service.engagement.
Result<std::vector<ComposeVolume>> PlanComposeVolumes(const std::string& project,
                                                      const ComposeService& service,
                                                      const EngagementGrant& grant,
                                                      const DaemonPlacement& daemon);

// What an engaged service got, for its part of the override.
struct EngagedService {
  std::string engagement_id{};
  std::string env_file{};  // absolute path
  std::vector<ComposeVolume> volumes{};
};

// The override document. `engaged` is keyed by service name.
nlohmann::json ComposeOverride(const ComposeProject& project, const DaemonPlacement& daemon,
                               const std::map<std::string, EngagedService>& engaged);

// The engage command a service's x-tele amounts to (mode, workload, ports; the engagement is
// named after the workload), for PlanEngageStart. Precondition: service.engagement.
EngageCommand EngageCommandFor(const ComposeService& service);

}  // namespace tp::cli
