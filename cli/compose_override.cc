#include "cli/compose_override.h"

#include <algorithm>

#include "cli/docker_command.h"

namespace tp::cli {
namespace {

using nlohmann::json;

const MountRule* RuleFor(const ServiceEngagement& engagement, const std::string& path) {
  auto same = [&path](const MountRule& rule) { return rule.path == path; };
  auto found = std::find_if(engagement.mounts.begin(), engagement.mounts.end(), same);
  return found == engagement.mounts.end() ? nullptr : &*found;
}

std::string WithoutTrailingSlash(std::string path) {
  while (path.size() > 1 && path.ends_with('/')) path.pop_back();
  return path;
}

Status RejectUnknownMountRules(const ComposeService& service,
                               const std::vector<std::string>& mounts) {
  for (const MountRule& rule : service.engagement->mounts) {
    auto same = [&rule](const std::string& mount) {
      return WithoutTrailingSlash(mount) == rule.path;
    };
    if (std::any_of(mounts.begin(), mounts.end(), same)) continue;
    std::string known;
    for (const std::string& mount : mounts) known += (known.empty() ? "" : ", ") + mount;
    return CliError{"the service " + service.name + "'s x-tele names the mount " + rule.path +
                    ", which the workload " + service.engagement->workload +
                    " does not have; its mounts are " + (known.empty() ? "none" : known) +
                    " (telepresence list shows them)"};
  }
  return Ok{};
}

json ServiceOverride(const ComposeService& service, const DaemonPlacement& daemon) {
  json networks = json::object();
  if (!service.has_networks) networks["default"] = json::object();
  networks[daemon.network] = json::object();
  return {{"networks", networks},
          {"dns", json::array({daemon.dns})},
          {"dns_search", daemon.dns_search},
          {"dns_opt", json::array({"ndots:5"})},
          {"labels", {{std::string(kDaemonLabel), daemon.context_name}}}};
}

void AddEngagement(const EngagedService& engaged, json& service, json& volumes) {
  service["labels"][std::string(kEngagementLabel)] = engaged.engagement_id;
  service["env_file"] = json::array({engaged.env_file});
  if (engaged.volumes.empty()) return;
  json& mounts = service["volumes"] = json::array();
  for (const ComposeVolume& volume : engaged.volumes) {
    mounts.push_back(volume.spec.name + ":" + volume.mount_path + (volume.read_only ? ":ro" : ""));
    volumes[volume.spec.name] = {{"external", true}, {"name", volume.spec.name}};
  }
}

}  // namespace

Result<std::vector<ComposeVolume>> PlanComposeVolumes(const std::string& project,
                                                      const ComposeService& service,
                                                      const EngagementGrant& grant,
                                                      const DaemonPlacement& daemon) {
  if (Status known = RejectUnknownMountRules(service, grant.mounts); !known.ok()) {
    return known.error();
  }
  const SftpSource source{.host = daemon.bridge_address,
                          .port = grant.sftp_port,
                          .container = grant.container,
                          .token = grant.sftp_token};
  std::vector<ComposeVolume> volumes;
  for (size_t n = 0; n < grant.mounts.size(); ++n) {
    const std::string path = WithoutTrailingSlash(grant.mounts[n]);
    const MountRule* rule = RuleFor(*service.engagement, path);
    // The service's rule can narrow the workload's policy, never widen it.
    const MountPolicy policy = api::Stricter(rule ? rule->policy : MountPolicy::kRemote,
                                             api::PolicyOf(grant.mount_policies, path));
    if (!api::MountedFromCluster(policy)) continue;
    const RemoteVolume remote{
        .name = "tp-" + project + "-" + service.name + "-" + std::to_string(n),
        .mount_path = path,
        .target = path};
    ComposeVolume volume{.mount_path = path,
                         .read_only = policy == MountPolicy::kRemoteReadOnly,
                         .spec = VolumeCreateSpec(remote, source, daemon.context_name, grant.id)};
    volume.spec.labels[std::string(kComposeProjectLabel)] = project;
    if (volume.read_only) volume.spec.driver_options["ro"] = "true";
    volumes.push_back(std::move(volume));
  }
  return volumes;
}

json ComposeOverride(const ComposeProject& project, const DaemonPlacement& daemon,
                     const std::map<std::string, EngagedService>& engaged) {
  json services = json::object();
  json volumes = json::object();
  for (const ComposeService& service : project.services) {
    if (service.has_network_mode) continue;
    json override = ServiceOverride(service, daemon);
    if (auto found = engaged.find(service.name); found != engaged.end()) {
      AddEngagement(found->second, override, volumes);
    }
    services[service.name] = std::move(override);
  }
  json document = {
      {"services", services},
      {"networks", {{daemon.network, {{"external", true}, {"name", daemon.network}}}}}};
  if (!volumes.empty()) document["volumes"] = volumes;
  return document;
}

EngageCommand EngageCommandFor(const ComposeService& service) {
  const ServiceEngagement& engagement = *service.engagement;
  return EngageCommand{.mode = engagement.mode,
                       .workload = engagement.workload,
                       .name = engagement.workload,
                       .ports = engagement.ports};
}

}  // namespace tp::cli
