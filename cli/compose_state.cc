#include "cli/compose_state.h"

#include <cctype>

namespace tp::cli {

using nlohmann::json;

std::string NormalizeComposeProjectName(std::string_view name) {
  std::string normalized;
  for (char c : name) {
    const char lower = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if ((lower >= 'a' && lower <= 'z') || (lower >= '0' && lower <= '9') || lower == '-' ||
        lower == '_') {
      normalized.push_back(lower);
    }
  }
  return normalized;
}

Result<std::string> ComposeProjectName(const std::optional<std::string>& project_flag,
                                       const std::optional<std::string>& project_environment,
                                       const std::vector<std::string>& files,
                                       const std::filesystem::path& working_directory) {
  std::string source;
  if (project_flag) {
    source = *project_flag;
  } else if (project_environment && !project_environment->empty()) {
    source = *project_environment;
  } else {
    std::filesystem::path first =
        files.empty() ? working_directory / "x" : std::filesystem::path(files.front());
    if (first.is_relative()) first = working_directory / first;
    source = first.lexically_normal().parent_path().filename().string();
  }
  std::string name = NormalizeComposeProjectName(source);
  if (name.empty()) {
    return CliError{"the project name '" + source +
                    "' has none of the letters a-z, digits, '-' or '_' docker-compose keeps; "
                    "give one with -p NAME"};
  }
  return name;
}

std::filesystem::path ComposeStateDirectory(const std::filesystem::path& contexts_directory,
                                            const std::string& project) {
  return contexts_directory.parent_path() / "compose" / project;
}

json ComposeStateToJson(const ComposeState& state) {
  json engagements = json::array();
  for (const ComposeEngagementRecord& record : state.engagements) {
    engagements.push_back({{"service", record.service},
                           {"workload", record.workload},
                           {"id", record.id},
                           {"volumes", record.volumes}});
  }
  return {{"project", state.project},
          {"context", state.context_name},
          {"files", state.files},
          {"engagements", engagements}};
}

Result<ComposeState> ComposeStateFromJson(const json& body, const std::string& source) {
  try {
    ComposeState state{.project = body.at("project").get<std::string>(),
                       .context_name = body.at("context").get<std::string>(),
                       .files = body.at("files").get<std::vector<std::string>>()};
    for (const json& record : body.at("engagements")) {
      state.engagements.push_back(
          {.service = record.at("service").get<std::string>(),
           .workload = record.at("workload").get<std::string>(),
           .id = record.at("id").get<std::string>(),
           .volumes = record.at("volumes").get<std::vector<std::string>>()});
    }
    return state;
  } catch (const json::exception& error) {
    return CliError{source + " cannot be read (" + error.what() +
                    "); remove it, and the project's containers with docker-compose down"};
  }
}

}  // namespace tp::cli
