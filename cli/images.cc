#include "cli/images.h"

#include "cli/process.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kFoldersAboveBuildDir = 3;

std::string JoinWords(const std::vector<std::string>& words) {
  std::string joined;
  for (const std::string& word : words) joined += (joined.empty() ? "" : " ") + word;
  return joined;
}

std::vector<std::string> BaseNames(const std::vector<std::string>& images) {
  std::vector<std::string> names;
  for (const std::string& image : images) names.push_back(ImageBaseName(image));
  return names;
}

CliError CannotBuild(const std::vector<std::string>& images) {
  return CliError{"the image" + std::string(images.size() > 1 ? "s " : " ") + JoinWords(images) +
                  (images.size() > 1 ? " are" : " is") +
                  " missing and this telepresence is not in a build tree that has "
                  "scripts/build-images.sh; build them in the repository with make images "
                  "(or scripts/build-images.sh BUILD_DIR " +
                  JoinWords(BaseNames(images)) + ")"};
}

}  // namespace

std::optional<ImageBuildScript> FindImageBuildScript(
    const fs::path& executable, const std::function<bool(const fs::path&)>& is_file) {
  return FindBuildScript(executable, "build-images.sh", is_file);
}

std::optional<BuildScript> FindBuildScript(const fs::path& executable, std::string_view script_name,
                                           const std::function<bool(const fs::path&)>& is_file) {
  fs::path build_dir = executable.parent_path().parent_path();
  if (build_dir.empty() || !is_file(build_dir / "bin" / "telepresence-daemon")) {
    return std::nullopt;
  }
  fs::path folder = build_dir;
  for (int level = 0; level < kFoldersAboveBuildDir && folder.has_relative_path(); ++level) {
    folder = folder.parent_path();
    fs::path script = folder / "scripts" / script_name;
    if (is_file(script)) return BuildScript{script, build_dir};
  }
  return std::nullopt;
}

std::string ImageBaseName(const std::string& image) {
  size_t colon = image.rfind(':');
  return colon == std::string::npos ? image : image.substr(0, colon);
}

Status ScriptImageBuilder::Build(const std::vector<std::string>& images) {
  if (!script_) return CannotBuild(images);
  Argv argv{script_->script.string(), script_->build_dir.string()};
  for (const std::string& name : BaseNames(images)) argv.push_back(name);
  Result<ExitCode> exit_code = RunAttached(argv, ChildStreams::kStdoutToStderr);
  if (!exit_code.ok()) return exit_code.error();
  if (exit_code.value() != 0) {
    return CliError{"building " + JoinWords(images) + " failed (" + FormatArgvForDisplay(argv) +
                    " exited with " + std::to_string(exit_code.value()) +
                    "); its output above says why"};
  }
  return Ok{};
}

Status EnsureImages(DockerApi& docker, ImageBuilder& builder,
                    const std::vector<std::string>& images, std::ostream& err) {
  std::vector<std::string> missing;
  for (const std::string& image : images) {
    Result<bool> exists = docker.ImageExists(image);
    if (!exists.ok()) return exists.error();
    if (!exists.value()) missing.push_back(image);
  }
  if (missing.empty()) return Ok{};
  err << "Building the missing image" << (missing.size() > 1 ? "s " : " ") << JoinWords(missing)
      << " ..." << std::endl;
  if (Status built = builder.Build(missing); !built.ok()) return built;
  for (const std::string& image : missing) {
    Result<bool> exists = docker.ImageExists(image);
    if (!exists.ok()) return exists.error();
    if (!exists.value()) {
      return CliError{"the image " + image + " is still missing after the build; run make images"};
    }
  }
  return Ok{};
}

}  // namespace tp::cli
