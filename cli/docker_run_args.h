// The words a user gives to `docker run` (after `--`), read the way docker reads them: flags,
// then the image (the first word that is neither a flag nor a flag's value), then the container's
// arguments. Knows which of docker run's flags take a value (-e X, --env=X, -eX, -it). Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

struct DockerRunArgs {
  std::vector<std::string> flags{};  // the words before the image, unchanged
  std::string image{};
  std::vector<std::string> image_args{};
  bool operator==(const DockerRunArgs&) const = default;
};

// One flag of DockerRunArgs::flags, with its long name ("-v" is "--volume") and value.
struct DockerRunFlag {
  std::string name{};                  // "--volume"; an unknown flag keeps its own spelling
  std::optional<std::string> value{};  // for flags that take one (or "--flag=value")
};

// Splits the words. Error (a sentence): no image among them.
Result<DockerRunArgs> SplitDockerRunArgs(const std::vector<std::string>& words);

// The flags of `flags` (DockerRunArgs::flags), each with its long name and value. Combined
// short flags ("-it") give one entry per letter. Flags not in docker's table count as boolean.
std::vector<DockerRunFlag> ReadDockerRunFlags(const std::vector<std::string>& flags);

// Whether the flags contain `long_name` ("--name", "--rm", ...).
bool HasDockerRunFlag(const std::vector<DockerRunFlag>& flags, std::string_view long_name);

// The container paths the user mounted: -v/--volume SRC:DST[:OPTS] (or DST alone), --mount
// ...,target=DST (also dst=, destination=), --tmpfs DST[:OPTS]. Without trailing slashes.
std::vector<std::string> MountedContainerPaths(const std::vector<DockerRunFlag>& flags);

// PATH without its trailing slashes ("/" stays "/").
std::string WithoutTrailingSlashes(std::string_view path);

}  // namespace tp::cli
