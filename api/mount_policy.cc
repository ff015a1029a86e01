#include "api/mount_policy.h"

#include <array>

#include "api/enum_names.h"
#include "api/json_fields.h"

namespace tp::api {
namespace {

constexpr std::array kPolicies = {MountPolicy::kRemote, MountPolicy::kRemoteReadOnly,
                                  MountPolicy::kLocal, MountPolicy::kIgnore};

}  // namespace

MountPolicy Stricter(MountPolicy a, MountPolicy b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

std::string_view MountPolicyName(MountPolicy policy) {
  switch (policy) {
    case MountPolicy::kRemote:
      return "Remote";
    case MountPolicy::kRemoteReadOnly:
      return "RemoteReadOnly";
    case MountPolicy::kLocal:
      return "Local";
    case MountPolicy::kIgnore:
      return "Ignore";
  }
  return "Remote";
}

std::optional<MountPolicy> ParseMountPolicy(std::string_view text) {
  return EnumNamed<MountPolicy>(kPolicies, MountPolicyName, text);
}

std::string MountPolicyNames() { return EnumNames<MountPolicy>(kPolicies, MountPolicyName); }

bool MountedFromCluster(MountPolicy policy) {
  return policy == MountPolicy::kRemote || policy == MountPolicy::kRemoteReadOnly;
}

MountPolicy PolicyOf(const MountPolicies& policies, const std::string& path) {
  const auto without_trailing_slashes = [](std::string_view text) {
    while (text.size() > 1 && text.back() == '/') text.remove_suffix(1);
    return text;
  };
  for (const auto& [mount, policy] : policies) {
    if (without_trailing_slashes(mount) == without_trailing_slashes(path)) return policy;
  }
  return MountPolicy::kRemote;
}

nlohmann::json MountPoliciesToJson(const MountPolicies& policies) {
  nlohmann::json names = nlohmann::json::object();
  for (const auto& [path, policy] : policies) names[path] = MountPolicyName(policy);
  return names;
}

std::optional<MountPolicies> MountPoliciesFromJson(const nlohmann::json& value,
                                                   std::string& error) {
  error = FieldIsNot("mount_policies", "a map of paths to " + MountPolicyNames());
  if (!value.is_object()) return std::nullopt;
  MountPolicies policies;
  for (const auto& [path, name] : value.items()) {
    const std::optional<MountPolicy> policy =
        name.is_string() ? ParseMountPolicy(name.get<std::string>()) : std::nullopt;
    if (!policy) return std::nullopt;
    policies[path] = *policy;
  }
  error.clear();
  return policies;
}

}  // namespace tp::api
