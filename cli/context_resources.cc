#include "cli/context_resources.h"

#include <algorithm>

namespace tp::cli {

Result<ContextResources> ListContextResources(DockerApi& docker, std::string_view context_name) {
  const std::string label = ContextLabel(context_name);
  ContextResources resources;
  struct Kind {
    DockerResource kind;
    std::vector<std::string>& names;
  };
  for (Kind kind : {Kind{DockerResource::kContainer, resources.containers},
                    Kind{DockerResource::kNetwork, resources.networks},
                    Kind{DockerResource::kVolume, resources.volumes}}) {
    Result<std::vector<std::string>> names = docker.ListLabelled(kind.kind, label);
    if (!names.ok()) return names.error();
    kind.names = names.value();
  }
  const std::string container = DaemonContainerName(context_name);
  if (std::find(resources.containers.begin(), resources.containers.end(), container) ==
      resources.containers.end()) {
    Result<std::optional<std::string>> state = docker.ContainerState(container);
    if (!state.ok()) return state.error();
    if (state.value()) resources.containers.push_back(container);
  }
  return resources;
}

Status RemoveContextResources(DockerApi& docker, const ContextResources& resources) {
  for (auto [kind, names] : {std::pair{DockerResource::kContainer, &resources.containers},
                             std::pair{DockerResource::kNetwork, &resources.networks},
                             std::pair{DockerResource::kVolume, &resources.volumes}}) {
    if (Status removed = docker.Remove(kind, *names); !removed.ok()) return removed;
  }
  return Ok{};
}

}  // namespace tp::cli
