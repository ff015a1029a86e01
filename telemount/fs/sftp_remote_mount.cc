#include "telemount/fs/sftp_remote_mount.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "telemount/fs/fuse_mount.h"
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {
namespace {

void ReadTimeout(const char* name, std::chrono::milliseconds* value) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return;
  char* end = nullptr;
  const double seconds = std::strtod(text, &end);
  if (end == text || *end != '\0' || seconds < 0 || seconds > 3600) {
    spdlog::warn("ignoring {}={}: expected seconds between 0 and 3600", name, text);
    return;
  }
  *value = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
}

class SftpRemoteMount : public RemoteMount {
 public:
  SftpRemoteMount(std::shared_ptr<sftp::SftpConnection> connection,
                  std::unique_ptr<SftpFileSystem> filesystem, std::unique_ptr<FuseMount> mount)
      : connection_(std::move(connection)),
        filesystem_(std::move(filesystem)),
        mount_(std::move(mount)) {}

  ~SftpRemoteMount() override {
    mount_.reset();  // unmount before the file system it serves goes away
  }

  const std::string& mountpoint() const override { return mount_->mountpoint(); }

  std::string CheckFolder(const std::string& remote_path) override {
    std::string error;
    auto session = connection_->Session(&error);
    if (!session) return error;
    sftp::SftpReply reply = session->Call(sftp::PacketType::kStat,
                                          [&](sftp::PacketWriter& w) { w.String(remote_path); });
    const std::string where = " on " + session->Describe();
    if (int failure = reply.Errno(sftp::PacketType::kAttrs)) {
      if (failure == ENOENT) return "no such folder " + remote_path + where;
      return "cannot read folder " + remote_path + where + ": " + std::strerror(failure);
    }
    if (!S_ISDIR(reply.Payload().Attributes().permissions)) {
      return remote_path + where + " is not a folder";
    }
    return "";
  }

 private:
  std::shared_ptr<sftp::SftpConnection> connection_;
  std::unique_ptr<SftpFileSystem> filesystem_;
  std::unique_ptr<FuseMount> mount_;
};

class SftpRemoteMountFactory : public RemoteMountFactory {
 public:
  explicit SftpRemoteMountFactory(SftpMountSettings settings) : settings_(settings) {}

  std::unique_ptr<RemoteMount> Mount(const RemoteEndpoint& endpoint,
                                     const std::string& mountpoint) override {
    sftp::SessionOptions options;
    options.host = endpoint.host;
    options.port = endpoint.port;
    options.token = endpoint.token;
    options.connect_timeout = settings_.connect_timeout;
    options.request_timeout = settings_.request_timeout;
    auto connection = std::make_shared<sftp::SftpConnection>(options);
    std::string error;
    if (!connection->Session(&error)) throw std::runtime_error(error);

    std::error_code ignored;
    DetachStaleMount(mountpoint);
    std::filesystem::create_directories(mountpoint, ignored);
    auto filesystem = std::make_unique<SftpFileSystem>(connection, "/", settings_.cache_timeout);
    std::vector<std::string> mount_options = {
        "fsname=" + endpoint.host + ":" + std::to_string(endpoint.port) + ":/",
        "subtype=telemount"};
    // allow_other lets containers of any user reach the volume; default_permissions makes the
    // kernel check the files' modes against each caller, as on a local folder (stale-mount
    // detection uses statvfs, which the kernel never answers from its attribute cache).
    if (::geteuid() == 0) {
      mount_options.push_back("allow_other");
      mount_options.push_back("default_permissions");
    }
    if (endpoint.read_only) mount_options.push_back("ro");
    auto mount = FuseMount::Start(mountpoint, SftpFileSystem::Operations(), filesystem.get(),
                                  mount_options, &error);
    if (!mount) throw std::runtime_error(error);
    return std::make_unique<SftpRemoteMount>(std::move(connection), std::move(filesystem),
                                             std::move(mount));
  }

 private:
  const SftpMountSettings settings_;
};

}  // namespace

SftpMountSettings SettingsFromEnvironment() {
  SftpMountSettings settings;
  ReadTimeout("TELEMOUNT_CONNECT_TIMEOUT", &settings.connect_timeout);
  ReadTimeout("TELEMOUNT_REQUEST_TIMEOUT", &settings.request_timeout);
  ReadTimeout("TELEMOUNT_CACHE_TIMEOUT", &settings.cache_timeout);
  return settings;
}

std::unique_ptr<RemoteMountFactory> MakeSftpRemoteMountFactory(SftpMountSettings settings) {
  return std::make_unique<SftpRemoteMountFactory>(settings);
}

}  // namespace tp::telemount
