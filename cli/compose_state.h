// What `telepresence compose up` leaves for `down` (and the other commands) to find: the
// project's name, its folder of private files, and the engagements it made (state.json there).
// Pure: names and the JSON codec; compose.cc reads and writes the files.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

// The project name as docker-compose 1.29 makes it of a folder's name or -p: lower case, only
// a-z, 0-9, '-' and '_' kept. May be empty (then docker-compose refuses it, and so do we).
std::string NormalizeComposeProjectName(std::string_view name);

// The project's name: -p, else COMPOSE_PROJECT_NAME, else the first file's folder's name (the
// files as given, relative to `working_directory`). Error: the name is empty once normalized.
Result<std::string> ComposeProjectName(const std::optional<std::string>& project_flag,
                                       const std::optional<std::string>& project_environment,
                                       const std::vector<std::string>& files,
                                       const std::filesystem::path& working_directory);

// <config>/telepresence-docker/compose/<project>: `contexts_directory` is ContextsDirectory's
// (<config>/telepresence-docker/contexts).
std::filesystem::path ComposeStateDirectory(const std::filesystem::path& contexts_directory,
                                            const std::string& project);

// One engagement `up` made for a service.
struct ComposeEngagementRecord {
  std::string service{};
  std::string workload{};
  std::string id{};
  std::vector<std::string> volumes{};  // the telemount volumes made for it
  bool operator==(const ComposeEngagementRecord&) const = default;
};

struct ComposeState {
  std::string project{};
  std::string context_name{};
  std::vector<std::string> files{};  // the compose files, absolute (for quit's compose down)
  std::vector<ComposeEngagementRecord> engagements{};
  bool operator==(const ComposeState&) const = default;
};

nlohmann::json ComposeStateToJson(const ComposeState& state);
// Error: not the shape ComposeStateToJson writes (a sentence naming `source`).
Result<ComposeState> ComposeStateFromJson(const nlohmann::json& body, const std::string& source);

}  // namespace tp::cli
