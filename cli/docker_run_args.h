// The words a user gives to `docker run` (after `--`), read ONCE the way docker reads them: flags,
// then the image (the first word that is neither a flag nor a flag's value), then the container's
// arguments. Knows which of docker run's flags take a value (-e X, --env=X, -eX, -it). The words
// are kept verbatim (telepresence passes them to docker run unchanged, in order); what
// telepresence needs to know of them is read into typed fields at the same time, so no other code
// reads the raw flags again. Pure.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

// The typed view of docker run's flags that telepresence plans with. Each field holds what the
// flags say, in their order; flags given as -x, --long VALUE or --long=VALUE alike.
struct DockerRunOptions {
  std::optional<std::string> name{};        // --name (the last one, as docker takes it)
  std::optional<std::string> network{};     // --network or --net
  std::vector<std::string> env{};           // -e/--env values ("K=V" or "K")
  std::vector<std::string> env_files{};     // --env-file
  std::vector<std::string> volumes{};       // -v/--volume values
  std::vector<std::string> mounts{};        // --mount values
  std::vector<std::string> publish{};       // -p/--publish values
  std::optional<std::string> entrypoint{};  // --entrypoint
  std::optional<bool> remove{};             // --rm (--rm=false: false); nullopt: not given
  bool detach = false;                      // -d/--detach
  bool interactive = false;                 // -i/--interactive
  bool tty = false;                         // -t/--tty
  // The container paths the flags mount something at (MountedContainerPaths).
  std::vector<std::string> mounted_paths{};
  bool operator==(const DockerRunOptions&) const = default;
};

struct DockerRunArgs {
  std::vector<std::string> flags{};  // the words before the image, verbatim
  std::string image{};
  std::vector<std::string> image_args{};
  DockerRunOptions options{};  // read from `flags` by SplitDockerRunArgs
  bool operator==(const DockerRunArgs&) const = default;
};

// One flag of DockerRunArgs::flags, with its long name ("-v" is "--volume") and value.
struct DockerRunFlag {
  std::string name{};                  // "--volume"; an unknown flag keeps its own spelling
  std::optional<std::string> value{};  // for flags that take one (or "--flag=value")
};

// Splits the words and reads the flags' options. Error (a sentence): no image among them.
Result<DockerRunArgs> SplitDockerRunArgs(const std::vector<std::string>& words);

// The flags of `flags` (DockerRunArgs::flags), each with its long name and value. Combined
// short flags ("-it") give one entry per letter. Flags not in docker's table count as boolean.
std::vector<DockerRunFlag> ReadDockerRunFlags(const std::vector<std::string>& flags);

// The typed options of the flags (DockerRunArgs::options).
DockerRunOptions ReadDockerRunOptions(const std::vector<DockerRunFlag>& flags);

// The container paths the user mounted: -v/--volume SRC:DST[:OPTS] (or DST alone), --mount
// ...,target=DST (also dst=, destination=), --tmpfs DST[:OPTS]. Without trailing slashes.
std::vector<std::string> MountedContainerPaths(const std::vector<DockerRunFlag>& flags);

// PATH without its trailing slashes ("/" stays "/").
std::string WithoutTrailingSlashes(std::string_view path);

}  // namespace tp::cli
