#include "cli/engagement_plan.h"

#include <algorithm>

#include "cli/plugins.h"

namespace tp::cli {
namespace {

using nlohmann::json;

CliError Unreadable(std::string_view what, const std::string& error) {
  return CliError{"the daemon's answer to " + std::string(what) + " cannot be read (" + error +
                  "); is the daemon of this telepresence's version?"};
}

bool Contains(const std::vector<uint16_t>& ports, uint16_t port) {
  return std::find(ports.begin(), ports.end(), port) != ports.end();
}

// The workload port that --port LOCAL[:CONTAINER] engages: LOCAL when the workload has it, else
// its only port; with several ports there is no guessing: LOCAL is asked for, and the manager
// refuses it naming the workload's ports (as it does for an unknown workload).
uint16_t WorkloadPortOf(const PortMapping& mapping, const std::vector<uint16_t>& workload_ports) {
  if (workload_ports.size() == 1) return workload_ports.front();
  return mapping.local;
}

std::string JoinPorts(const std::vector<uint16_t>& ports) {
  std::string text;
  for (uint16_t port : ports) text += (text.empty() ? "" : ",") + std::to_string(port);
  return text.empty() ? "-" : text;
}

std::string Padded(std::string text, size_t width) {
  if (text.size() < width) text.resize(width, ' ');
  return text;
}

}  // namespace

Result<std::vector<WorkloadInfo>> ParseWorkloads(const json& body) {
  std::string error;
  std::optional<std::vector<WorkloadInfo>> workloads = api::WorkloadListFromJson(body, error);
  if (!workloads) return Unreadable("GET /workloads", error);
  return std::move(*workloads);
}

Result<std::vector<EngagementSummary>> ParseEngagements(const json& body) {
  std::string error;
  std::optional<std::vector<EngagementSummary>> engagements =
      api::EngagementListFromJson(body, error);
  if (!engagements) return Unreadable("GET /engagements", error);
  return std::move(*engagements);
}

Result<EngagementGrant> ParseEngagementGrant(const json& body) {
  std::string error;
  std::optional<EngagementGrant> grant = api::EngagementGrantFromJson(body, error);
  if (!grant) return Unreadable("POST /engagements", error);
  return std::move(*grant);
}

EngagedPorts ResolvePorts(EngagementMode mode, const std::vector<PortMapping>& ports,
                          const std::vector<uint16_t>& workload_ports) {
  EngagedPorts engaged;
  if (mode == EngagementMode::kIngest) return engaged;
  auto engage = [&engaged](uint16_t workload_port, uint16_t handler_port) {
    if (!Contains(engaged.workload_ports, workload_port)) {
      engaged.workload_ports.push_back(workload_port);
    }
    engaged.handler_ports[workload_port] = handler_port;
  };
  if (mode == EngagementMode::kReplace) {
    for (uint16_t port : workload_ports) engage(port, port);
  }
  for (const PortMapping& mapping : ports) {
    engage(WorkloadPortOf(mapping, workload_ports), mapping.container);
  }
  if (engaged.workload_ports.empty() && !workload_ports.empty()) {
    engage(workload_ports.front(), workload_ports.front());
  }
  return engaged;
}

api::EngageRequest EngageRequestFor(const EngageCommand& command, const EngagedPorts& ports,
                                    const std::string& sftp_client) {
  return {.workload = command.workload,
          .mode = command.mode,
          .ports = ports.workload_ports,
          .name = command.name,
          .sftp_client = sftp_client};
}

std::string HandlerContainerName(const std::string& name, const std::vector<uint16_t>& engaged,
                                 const std::vector<uint16_t>& workload_ports) {
  const std::vector<uint16_t>& source = engaged.empty() ? workload_ports : engaged;
  if (source.empty()) return "intercept-" + name;
  return "intercept-" + name + "-" + std::to_string(source.front());
}

Result<std::vector<RemoteVolume>> PlanVolumes(const EngageCommand& command,
                                              const std::vector<std::string>& mounts,
                                              const api::MountPolicies& policies) {
  std::vector<RemoteVolume> volumes;
  if (!command.mounts.enabled) return volumes;
  if (command.mounts.only) {
    std::string wanted = WithoutTrailingSlashes(*command.mounts.only);
    auto same = [&wanted](const std::string& mount) {
      return WithoutTrailingSlashes(mount) == wanted;
    };
    if (std::none_of(mounts.begin(), mounts.end(), same)) {
      std::string known;
      for (const std::string& mount : mounts) known += (known.empty() ? "" : ", ") + mount;
      return CliError{"the workload " + command.workload + " has no mount " + wanted +
                      "; its mounts are " + (known.empty() ? "none" : known) +
                      " (telepresence list shows them)"};
    }
    const api::MountPolicy policy = api::PolicyOf(policies, wanted);
    if (!api::MountedFromCluster(policy)) {
      return CliError{"the workload " + command.workload + " says its mount " + wanted + " is " +
                      std::string(api::MountPolicyName(policy)) +
                      ": it is never mounted from the cluster (mount your own files there with "
                      "-v after --)"};
    }
  }
  const std::vector<std::string>& user_mounted = command.docker_args.options.mounted_paths;
  for (size_t n = 0; n < mounts.size(); ++n) {
    std::string mount_path = WithoutTrailingSlashes(mounts[n]);
    if (command.mounts.only && WithoutTrailingSlashes(*command.mounts.only) != mount_path) {
      continue;
    }
    std::string target = mount_path;
    if (command.docker_mount) target = WithoutTrailingSlashes(*command.docker_mount) + mount_path;
    if (std::find(user_mounted.begin(), user_mounted.end(), target) != user_mounted.end()) {
      continue;
    }
    // The workload's policy can only be narrowed by --mount ...:ro.
    const api::MountPolicy policy = api::Stricter(
        api::PolicyOf(policies, mount_path),
        command.mounts.read_only ? api::MountPolicy::kRemoteReadOnly : api::MountPolicy::kRemote);
    if (!api::MountedFromCluster(policy)) continue;
    volumes.push_back({"tp-" + command.name + "-" + std::to_string(n), mount_path, target,
                       policy == api::MountPolicy::kRemoteReadOnly});
  }
  return volumes;
}

docker::VolumeSpec VolumeCreateSpec(const RemoteVolume& volume, const SftpSource& source,
                                    std::string_view context_name, std::string_view engagement_id) {
  // The agent's SFTP root is its exports folder: the mount is /<container><mount path> there.
  docker::VolumeSpec spec{.name = volume.name,
                          .driver = std::string(kTelemountPlugin),
                          .driver_options = {{"host", source.host},
                                             {"port", std::to_string(source.port)},
                                             {"path", "/" + source.container + volume.mount_path}},
                          .labels = {{std::string(kDaemonLabel), std::string(context_name)},
                                     {std::string(kEngagementLabel), std::string(engagement_id)}}};
  if (!source.token.empty()) spec.driver_options["token"] = source.token;
  // Read-only twice: telemount refuses writes (EROFS), and so does the container's mount.
  if (volume.read_only) spec.driver_options["ro"] = "true";
  return spec;
}

Argv DockerBuildCommand(const std::string& dir,
                        const std::vector<std::pair<std::string, std::string>>& options) {
  Argv argv{"env", "DOCKER_BUILDKIT=0", "docker", "build", "-q"};
  for (const auto& [key, value] : options) argv.insert(argv.end(), {"--" + key, value});
  argv.push_back(dir.starts_with('-') ? "./" + dir : dir);
  return argv;
}

std::string EnvFileText(const std::map<std::string, std::string>& env,
                        std::vector<std::string>* skipped) {
  std::string text;
  for (const auto& [key, value] : env) {
    // A newline or a NUL would start a line of the workload's choosing (another variable); a
    // key with '=' or none at all is no variable.
    const bool key_ok =
        !key.empty() && key.find_first_of(std::string_view("=\n\r\0", 4)) == std::string::npos;
    if (!key_ok || value.find_first_of(std::string_view("\n\r\0", 3)) != std::string::npos) {
      skipped->push_back(key);
      continue;
    }
    text += key + "=" + value + "\n";
  }
  return text;
}

std::map<uint16_t, uint16_t> PublishedPorts(const std::vector<PortMapping>& ports,
                                            const EngagedPorts& engaged,
                                            const std::vector<uint16_t>& workload_ports) {
  std::map<uint16_t, uint16_t> published;
  for (const auto& [workload_port, handler_port] : engaged.handler_ports) {
    published[workload_port] = handler_port;
  }
  for (const PortMapping& mapping : ports) {
    const uint16_t workload_port = WorkloadPortOf(mapping, workload_ports);
    if (engaged.handler_ports.contains(workload_port)) published[workload_port] = mapping.local;
  }
  return published;
}

EngageStart PlanEngageStart(const EngageCommand& command,
                            const std::vector<uint16_t>& workload_ports,
                            const DaemonPlacement& daemon) {
  EngageStart start{.ports = ResolvePorts(command.mode, command.ports, workload_ports)};
  start.engage_request = EngageRequestFor(command, start.ports, daemon.bridge_gateway);
  if (command.image_source != HandlerImage::kDockerRun) {
    start.build = DockerBuildCommand(command.build_dir, command.build_options);
  }
  return start;
}

Result<EngagementPlan> PlanEngagement(const EngageCommand& command,
                                      const EngagementInputs& inputs) {
  Result<std::vector<RemoteVolume>> volumes =
      PlanVolumes(command, inputs.grant.mounts, inputs.grant.mount_policies);
  if (!volumes.ok()) return volumes.error();
  const DockerRunOptions& user = command.docker_args.options;
  EngagementPlan plan{.workload = command.workload,
                      .engagement_id = inputs.grant.id,
                      .container = user.name.value_or(HandlerContainerName(
                          command.name, inputs.grant.ports, inputs.workload_ports)),
                      .user_env_file = command.env_file,
                      .handler_ports = inputs.ports.handler_ports};
  plan.env_file_text = EnvFileText(inputs.grant.env, &plan.skipped_variables);
  const SftpSource source{.host = inputs.daemon.bridge_address,
                          .port = inputs.grant.sftp_port,
                          .container = inputs.grant.container,
                          .token = inputs.grant.sftp_token};
  Argv ours;
  if (!user.remove) ours.push_back("--rm");
  if (!user.name) ours.insert(ours.end(), {"--name", plan.container});
  ours.insert(ours.end(), {"--label", ContextLabel(inputs.daemon.context_name), "--label",
                           std::string(kEngagementLabel) + "=" + plan.engagement_id, "--env-file",
                           inputs.env_file_path});
  for (const RemoteVolume& volume : volumes.value()) {
    plan.volumes.push_back(
        {volume.mount_path,
         VolumeCreateSpec(volume, source, inputs.daemon.context_name, plan.engagement_id)});
    ours.insert(ours.end(),
                {"-v", volume.name + ":" + volume.target + (volume.read_only ? ":ro" : "")});
  }
  if (inputs.daemon.on_host) {
    plan.handler_ports = PublishedPorts(command.ports, inputs.ports, inputs.workload_ports);
    for (const auto& [workload_port, local_port] : plan.handler_ports) {
      ours.insert(ours.end(),
                  {"-p", "127.0.0.1:" + std::to_string(local_port) + ":" +
                             std::to_string(inputs.ports.handler_ports.at(workload_port))});
    }
  }
  if (command.image_source == HandlerImage::kDockerDebug) {
    ours.insert(ours.end(), {"--cap-add", "SYS_PTRACE", "--security-opt", "seccomp=unconfined"});
  }
  ours.insert(ours.end(), command.docker_args.flags.begin(), command.docker_args.flags.end());
  ours.push_back(inputs.image);
  ours.insert(ours.end(), command.docker_args.image_args.begin(),
              command.docker_args.image_args.end());
  if (inputs.daemon.on_host) {
    plan.run = DockerRunOnHostCommand(ours);
    plan.handler_network = "bridge";
    plan.handler_address = "127.0.0.1";
    return plan;
  }
  plan.run = DockerRunOnNetworkCommand(inputs.daemon.network, inputs.daemon.dns,
                                       inputs.daemon.dns_search, ours);
  plan.handler_network = inputs.daemon.network;
  return plan;
}

std::string FormatWorkloadTable(const std::vector<WorkloadInfo>& workloads) {
  size_t name_width = std::string_view("WORKLOAD").size();
  size_t ports_width = std::string_view("PORTS").size();
  for (const WorkloadInfo& workload : workloads) {
    name_width = std::max(name_width, workload.workload.size());
    ports_width = std::max(ports_width, JoinPorts(workload.ports).size());
  }
  std::string text =
      Padded("WORKLOAD", name_width + 2) + Padded("PORTS", ports_width + 2) + "ENGAGEMENT\n";
  for (const WorkloadInfo& workload : workloads) {
    std::string engagement = "-";
    if (workload.engagement) {
      engagement = workload.engagement->name + " (" + workload.engagement->mode;
      if (!workload.engagement->ports.empty()) {
        engagement += " " + JoinPorts(workload.engagement->ports);
      }
      engagement += ")";
    }
    text += Padded(workload.workload, name_width + 2) +
            Padded(JoinPorts(workload.ports), ports_width + 2) + engagement + "\n";
  }
  return text;
}

}  // namespace tp::cli
