#include "daemon/host_resolv_conf.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "common/atomic_file.h"
#include "daemon/cluster_resolv_conf.h"

namespace tp::daemon {

bool HostResolvConf::Undo(const std::string& path, const std::string& backup_path,
                          std::string& error) {
  const std::optional<std::string> backup = ReadWholeFile(backup_path);
  if (!backup) return true;
  if (!WriteFileInPlace(path, *backup, error)) return false;
  spdlog::info("{}: put back the text an earlier daemon found there (from {})", path, backup_path);
  if (::unlink(backup_path.c_str()) != 0 && errno != ENOENT) {
    error = "cannot remove " + backup_path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

std::unique_ptr<HostResolvConf> HostResolvConf::Apply(const std::string& path,
                                                      const std::string& backup_path,
                                                      const TextMaker& make_text,
                                                      std::string& error) {
  if (!Undo(path, backup_path, error)) return nullptr;
  const std::optional<std::string> original = ReadWholeFile(path);
  if (!original) {
    error = "cannot read " + path;
    return nullptr;
  }
  try {
    WriteFileAtomically(backup_path, *original);
  } catch (const std::runtime_error& failure) {
    error = "cannot keep a copy of " + path + ": " + failure.what();
    return nullptr;
  }
  std::string text = make_text(*original);
  if (!WriteFileInPlace(path, text, error)) {
    std::string ignored;
    (void)Undo(path, backup_path, ignored);
    return nullptr;
  }
  return std::unique_ptr<HostResolvConf>(new HostResolvConf(path, backup_path, std::move(text)));
}

HostResolvConf::~HostResolvConf() {
  std::string error;
  if (!Undo(path_, backup_path_, error)) spdlog::error("{}", error);
}

}  // namespace tp::daemon
