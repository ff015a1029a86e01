// MountPolicy: what an engagement does with one of the workload's mounts, as the workload says
// (the traffic-agent's --mount PATH:POLICY, which whoever starts the agent takes from the
// workload's label). One type for the agent, the traffic-manager and the CLI; on the wire a map
// "mount_policies": {"PATH": "POLICY"} beside "mounts", a mount absent from it being Remote.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace tp::api {

enum class MountPolicy {  // from the most given to the least
  kRemote,                // mounted from the cluster, writable (the default)
  kRemoteReadOnly,        // mounted from the cluster, read-only: writes fail with EROFS
  kLocal,                 // never mounted from the cluster: the handler brings its own files there
  kIgnore,                // not shown to engagements at all (the agent does not report it)
};

// The stricter of two policies (in the order above: Remote gives the most, Ignore the least),
// for when the workload and the user each say one: a user can narrow a workload's policy, never
// widen it.
MountPolicy Stricter(MountPolicy a, MountPolicy b);

// True for Remote and RemoteReadOnly: an engagement gets a volume of the cluster's files there.
bool MountedFromCluster(MountPolicy policy);

// "Remote", "RemoteReadOnly", "Local", "Ignore": the agent's flag and the protocol's word.
std::string_view MountPolicyName(MountPolicy policy);
// The policy `text` names; nullopt when it names none.
std::optional<MountPolicy> ParseMountPolicy(std::string_view text);
// "Remote, RemoteReadOnly, Local, Ignore", for error sentences.
std::string MountPolicyNames();

// The policy of `path` in `policies` (trailing slashes aside): Remote when it is not there.
using MountPolicies = std::map<std::string, MountPolicy>;
MountPolicy PolicyOf(const MountPolicies& policies, const std::string& path);

// The one codec of "mount_policies": {"PATH": "POLICY"}. FromJson gives nullopt with `error` =
// "field 'mount_policies' is not ..." when it is no such map.
nlohmann::json MountPoliciesToJson(const MountPolicies& policies);
std::optional<MountPolicies> MountPoliciesFromJson(const nlohmann::json& value, std::string& error);

}  // namespace tp::api
