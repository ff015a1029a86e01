// The local images the CLI runs (tp-daemon:latest, tp-curl:latest) and how a missing one gets
// built: by the repository's scripts/build-images.sh when this telepresence runs from a build
// tree (BUILD_DIR/bin/telepresence next to BUILD_DIR/bin/telepresence-daemon), else the error
// says to run `make images`. No registry is involved.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "cli/docker_client.h"
#include "cli/result.h"

namespace tp::cli {

// A script of the repository's scripts/ folder and the build tree it is run for.
struct BuildScript {
  std::filesystem::path script;     // .../scripts/build-images.sh
  std::filesystem::path build_dir;  // the build folder whose bin/ holds the binaries
};
using ImageBuildScript = BuildScript;

// For an executable BUILD_DIR/bin/telepresence: BUILD_DIR when it holds bin/telepresence-daemon,
// and the first scripts/SCRIPT_NAME found in BUILD_DIR's parent or the two folders above it
// (build/ and build/asan/ both work). nullopt when either is missing. `is_file` is the only
// access to the file system.
std::optional<BuildScript> FindBuildScript(
    const std::filesystem::path& executable, std::string_view script_name,
    const std::function<bool(const std::filesystem::path&)>& is_file);

// FindBuildScript for scripts/build-images.sh.
std::optional<ImageBuildScript> FindImageBuildScript(
    const std::filesystem::path& executable,
    const std::function<bool(const std::filesystem::path&)>& is_file);

// "tp-daemon:latest" -> "tp-daemon", the name build-images.sh takes.
std::string ImageBaseName(const std::string& image);

class ImageBuilder {
 public:
  virtual ~ImageBuilder() = default;
  // Builds the images (e.g. {"tp-daemon:latest"}). Error: they cannot be built here.
  virtual Status Build(const std::vector<std::string>& images) = 0;
};

// Runs build-images.sh BUILD_DIR NAME... with its output on stderr.
class ScriptImageBuilder : public ImageBuilder {
 public:
  explicit ScriptImageBuilder(std::optional<ImageBuildScript> script)
      : script_(std::move(script)) {}
  Status Build(const std::vector<std::string>& images) override;

 private:
  const std::optional<ImageBuildScript> script_;
};

// Builds the images that are missing, telling on `err` which ones it builds.
Status EnsureImages(DockerApi& docker, ImageBuilder& builder,
                    const std::vector<std::string>& images, std::ostream& err);

}  // namespace tp::cli
