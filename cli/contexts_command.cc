// `telepresence contexts`: see its --help (command_help.cc).
#include <iomanip>
#include <sstream>

#include "cli/commands.h"
#include "cli/context.h"

namespace tp::cli {
namespace {

using nlohmann::json;

constexpr std::string_view kCommand = "contexts";

// One entry of the list: the context's fields, or why its file cannot be read.
json ContextEntry(const std::string& name, const std::filesystem::path& directory) {
  Result<Context> context = LoadContext(name, directory);
  if (!context.ok()) return {{"name", name}, {"error", context.error().message}};
  return {{"name", name},
          {"manager", context.value().manager},
          {"cluster_network", context.value().cluster_network},
          {"cluster_subnets", context.value().cluster_subnets}};
}

std::string ContextTable(const json& contexts) {
  std::ostringstream table;
  table << std::left << std::setw(16) << "NAME" << std::setw(24) << "TRAFFIC-MANAGER"
        << "CLUSTER NETWORK\n";
  for (const json& context : contexts) {
    table << std::setw(16) << context["name"].get<std::string>();
    if (context.contains("error")) {
      table << "unreadable: " << context["error"].get<std::string>() << "\n";
      continue;
    }
    table << std::setw(24) << context["manager"].get<std::string>()
          << context["cluster_network"].get<std::string>() << "\n";
  }
  return table.str();
}

}  // namespace

int RunContexts(const ContextsCommand& command, const CliIo& io) {
  Result<std::filesystem::path> directory = ContextsDirectory(io.environment);
  if (!directory.ok()) return Fail(io, kCommand, directory.error().message);
  json contexts = json::array();
  for (const std::string& name : ListContextNames(directory.value())) {
    contexts.push_back(ContextEntry(name, directory.value()));
  }
  if (command.output == OutputFormat::kJson) {
    io.out << json{{"contexts", contexts}}.dump() << "\n";
  } else if (contexts.empty()) {
    io.out << "No contexts in " << directory.value().string()
           << " (make demo-cluster writes the default one)\n";
  } else {
    io.out << ContextTable(contexts);
  }
  return kExitOk;
}

}  // namespace tp::cli
