// Everything telepresence creates in Docker for a context, found and removed in one place: the
// daemon container tp-<ctx>-cn (also when its label is missing), and every container, network
// and volume labelled tp.daemon=<ctx>. `quit` removes them; `connect` removes stale ones.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/docker_client.h"
#include "cli/result.h"

namespace tp::cli {

struct ContextResources {
  std::vector<std::string> containers{};
  std::vector<std::string> networks{};
  std::vector<std::string> volumes{};

  bool empty() const { return containers.empty() && networks.empty() && volumes.empty(); }
};

// Precondition: IsValidContextName(context_name).
Result<ContextResources> ListContextResources(DockerApi& docker, std::string_view context_name);

// Containers first (they hold the networks and volumes), then networks, then volumes.
Status RemoveContextResources(DockerApi& docker, const ContextResources& resources);

}  // namespace tp::cli
