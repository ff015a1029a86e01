#include "cli/plugin_archive.h"

#include <stdlib.h>

#include <fstream>
#include <sstream>

#include "cli/plugins.h"
#include "cli/process.h"

namespace tp::cli {
namespace fs = std::filesystem;
namespace {

constexpr std::chrono::minutes kExtractTimeout{3};

// A folder only this user can enter, removed with everything in it when the object goes.
class PrivateFolder {
 public:
  static Result<PrivateFolder> Create(const EnvironmentLookup& environment) {
    std::optional<std::string> tmp = environment("TMPDIR");
    std::string pattern =
        (tmp && fs::path(*tmp).is_absolute() ? *tmp : "/tmp") + "/telepresence-plugins-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) {
      return CliError{"cannot make a temporary folder like " + pattern};
    }
    return PrivateFolder(pattern);
  }
  PrivateFolder(PrivateFolder&& other) noexcept : path_(std::exchange(other.path_, {})) {}
  PrivateFolder(const PrivateFolder&) = delete;
  PrivateFolder& operator=(const PrivateFolder&) = delete;
  PrivateFolder& operator=(PrivateFolder&&) = delete;
  ~PrivateFolder() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  explicit PrivateFolder(fs::path path) : path_(std::move(path)) {}
  fs::path path_;
};

Result<std::string> ReadSmallFile(const fs::path& path, size_t max_bytes) {
  std::error_code error;
  const uintmax_t size = fs::file_size(path, error);
  if (error) return CliError{"cannot read " + path.string() + ": " + error.message()};
  if (size > max_bytes) {
    return CliError{path.string() + " is larger than " + std::to_string(max_bytes) + " bytes"};
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return CliError{"cannot read " + path.string()};
  return bytes.str();
}

// The one telepresence-docker-* folder tar extracted.
Result<fs::path> ReleaseFolder(const fs::path& extracted, const fs::path& file) {
  std::optional<fs::path> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(extracted, error)) {
    if (!entry.is_directory() || entry.is_symlink()) continue;
    if (found) return CliError{file.string() + " holds more than one release folder"};
    found = entry.path();
  }
  if (!found) {
    return CliError{file.string() +
                    " is not a release file of make dist (no telepresence-docker-VERSION/VERSION "
                    "and plugins/ in it)"};
  }
  return *found;
}

}  // namespace

Result<PluginArchive> ReadPluginArchive(const fs::path& file,
                                        const EnvironmentLookup& environment) {
  std::error_code error;
  if (!fs::is_regular_file(file, error)) return CliError{"no file " + file.string()};
  Result<PrivateFolder> folder = PrivateFolder::Create(environment);
  if (!folder.ok()) return folder.error();
  Argv argv{"tar",
            "--extract",
            "--gzip",
            "--no-same-owner",
            "--no-same-permissions",
            "--file",
            fs::absolute(file).string(),
            "--directory",
            folder.value().path().string(),
            "--wildcards",
            "telepresence-docker-*/VERSION"};
  for (std::string_view name : kManagedPluginNames) {
    argv.push_back("telepresence-docker-*/plugins/" + std::string(name) + ".tar");
  }
  Result<CapturedOutput> extracted = RunCaptured(argv, kExtractTimeout);
  if (!extracted.ok()) return extracted.error();
  if (extracted.value().exit_code != 0) {
    return CliError{"cannot read " + file.string() +
                    " as a release file of make dist: tar says: " + extracted.value().err};
  }
  Result<fs::path> release = ReleaseFolder(folder.value().path(), file);
  if (!release.ok()) return release.error();
  Result<std::string> version = ReadSmallFile(release.value() / "VERSION", 256);
  if (!version.ok()) return version.error();
  PluginArchive archive;
  archive.version = version.value().substr(0, version.value().find_first_of(" \n"));
  for (std::string_view name : kManagedPluginNames) {
    const fs::path tar = release.value() / "plugins" / (std::string(name) + ".tar");
    Result<std::string> bytes = ReadSmallFile(tar, kMaxPluginTarBytes);
    if (!bytes.ok()) return bytes.error();
    archive.plugins[std::string(name)] = std::move(bytes).value();
  }
  return archive;
}

}  // namespace tp::cli
