#include "cli/docker_client.h"

#include <algorithm>

#include "docker_engine/engine_result.h"

namespace tp::cli {
namespace {

// How many words of a failed command the message quotes (enough to say which call it was).
constexpr size_t kQuotedWords = 4;

std::string CommandSummary(const Argv& argv) {
  Argv first_words(argv.begin(), argv.begin() + std::min(argv.size(), kQuotedWords));
  return FormatArgvForDisplay(first_words) + (argv.size() > kQuotedWords ? " ..." : "");
}

bool DockerdUnreachable(std::string_view stderr_text) {
  return stderr_text.find("Cannot connect to the Docker daemon") != std::string_view::npos ||
         stderr_text.find("Is the docker daemon running") != std::string_view::npos;
}

std::string OneLine(std::string_view text) {
  std::string line;
  for (const std::string& part : OutputLines(text)) line += (line.empty() ? "" : " ") + part;
  return line;
}

}  // namespace

std::string DockerFailureMessage(const Argv& argv, ExitCode exit_code,
                                 std::string_view stderr_text) {
  std::string message = CommandSummary(argv) + " failed (exit " + std::to_string(exit_code) + ")";
  std::string docker_says = OneLine(stderr_text);
  if (!docker_says.empty()) message += ": " + docker_says;
  if (DockerdUnreachable(stderr_text)) message += "; " + std::string(docker::kStartDockerdAdvice);
  return message;
}

Status RemoveVolumeWithin(DockerApi& docker, Clock& clock, const std::string& volume,
                          std::chrono::milliseconds within) {
  const SteadyTime deadline = clock.Now() + within;
  while (true) {
    Status removed = docker.Remove(DockerResource::kVolume, {volume});
    if (removed.ok() || clock.Now() >= deadline) return removed;
    clock.SleepFor(kVolumeRemoveInterval);
  }
}

}  // namespace tp::cli
