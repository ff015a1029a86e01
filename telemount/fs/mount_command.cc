#include "telemount/fs/mount_command.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cstdio>
#include <thread>

#include "telemount/fs/fuse_mount.h"
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {
namespace {

constexpr const char* kUsage =
    "usage: telemount mount HOST:PORT:/remote/path MOUNTPOINT [-o OPTION[,OPTION]...]\n"
    "\n"
    "Mounts a folder of an SFTP server reached over plain TCP (no SSH), like\n"
    "`sshfs -o directport=PORT`, and serves it until unmounted (fusermount3 -u) or signalled.\n"
    "\n"
    "options:\n"
    "  ro                   read-only mount\n"
    "  allow_other          let other users use the mount, as the files' modes allow\n"
    "                       (default when run as root)\n"
    "  debug                print every FUSE request (libfuse's debug output)\n"
    "  connect_timeout=S    seconds to connect (default 3)\n"
    "  request_timeout=S    seconds before a request fails with EIO (default 4)\n"
    "  cache_timeout=S      seconds attributes and names are cached (default 20; every open\n"
    "                       fetches the file's attributes afresh)\n";

bool ParseSeconds(std::string_view text, std::chrono::milliseconds* value) {
  double seconds = 0;
  auto [end, problem] = std::from_chars(text.data(), text.data() + text.size(), seconds);
  if (problem != std::errc() || end != text.data() + text.size() || seconds < 0) return false;
  *value = std::chrono::milliseconds(static_cast<long>(seconds * 1000));
  return true;
}

bool ParseOption(std::string_view option, MountRequest* request, std::string* error) {
  const auto equals = option.find('=');
  const std::string_view name = option.substr(0, equals);
  const std::string_view value = equals == std::string_view::npos ? "" : option.substr(equals + 1);
  if (name == "ro") {
    request->read_only = true;
  } else if (name == "rw") {
    request->read_only = false;
  } else if (name == "allow_other") {
    request->allow_other = true;
  } else if (name == "debug") {
    request->fuse_debug = true;
  } else if (name == "connect_timeout" || name == "request_timeout" || name == "cache_timeout") {
    auto* target = name == "connect_timeout"   ? &request->settings.connect_timeout
                   : name == "request_timeout" ? &request->settings.request_timeout
                                               : &request->settings.cache_timeout;
    if (!ParseSeconds(value, target)) {
      *error = "option " + std::string(name) + " needs a number of seconds";
      return false;
    }
  } else {
    *error = "unknown option '" + std::string(option) + "'";
    return false;
  }
  return true;
}

bool ParseRemote(const std::string& remote, MountRequest* request, std::string* error) {
  std::string rest = remote;
  if (rest.starts_with("[")) {
    const auto close = rest.find(']');
    if (close == std::string::npos) {
      *error = "unterminated [ in " + remote;
      return false;
    }
    request->host = rest.substr(1, close - 1);
    rest = rest.substr(close + 1);
  } else {
    const auto colon = rest.find(':');
    request->host = rest.substr(0, colon);
    rest = colon == std::string::npos ? "" : rest.substr(colon);
  }
  if (request->host.empty() || !rest.starts_with(":")) {
    *error = "expected HOST:PORT:/remote/path, got '" + remote + "'";
    return false;
  }
  rest = rest.substr(1);
  const auto colon = rest.find(':');
  const std::string port = rest.substr(0, colon);
  unsigned value = 0;
  auto [end, problem] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (problem != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
    *error = "port must be a number from 1 to 65535, got '" + port + "'";
    return false;
  }
  request->port = static_cast<uint16_t>(value);
  request->remote_path = colon == std::string::npos ? "/" : rest.substr(colon + 1);
  if (request->remote_path.empty()) request->remote_path = "/";
  if (!request->remote_path.starts_with("/")) {
    *error = "the remote path must be absolute, got '" + request->remote_path + "'";
    return false;
  }
  while (request->remote_path.size() > 1 && request->remote_path.ends_with("/")) {
    request->remote_path.pop_back();
  }
  return true;
}

}  // namespace

std::optional<MountRequest> ParseMountArguments(const std::vector<std::string>& arguments,
                                                std::string* error) {
  MountRequest request;
  request.settings = SettingsFromEnvironment();
  request.allow_other = ::geteuid() == 0;
  std::vector<std::string> positional;
  for (size_t i = 0; i < arguments.size(); ++i) {
    const std::string& argument = arguments[i];
    if (argument == "-o") {
      if (i + 1 == arguments.size()) {
        *error = "-o needs options";
        return std::nullopt;
      }
      std::string_view list = arguments[++i];
      while (!list.empty()) {
        const auto comma = list.find(',');
        if (!ParseOption(list.substr(0, comma), &request, error)) return std::nullopt;
        list = comma == std::string_view::npos ? "" : list.substr(comma + 1);
      }
    } else if (argument.starts_with("-")) {
      *error = "unknown flag '" + argument + "'";
      return std::nullopt;
    } else {
      positional.push_back(argument);
    }
  }
  if (positional.size() != 2) {
    *error = "expected HOST:PORT:/remote/path and MOUNTPOINT";
    return std::nullopt;
  }
  if (!ParseRemote(positional[0], &request, error)) return std::nullopt;
  request.mountpoint = positional[1];
  return request;
}

int RunMountCommand(int argc, char** argv, ShutdownSignal& shutdown) {
  std::vector<std::string> arguments(argv, argv + argc);
  for (const auto& argument : arguments) {
    if (argument == "-h" || argument == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    }
  }
  std::string error;
  auto request = ParseMountArguments(arguments, &error);
  if (!request) {
    std::fprintf(stderr, "telemount mount: %s\n\n%s", error.c_str(), kUsage);
    return 2;
  }
  sftp::SessionOptions options;
  options.host = request->host;
  options.port = request->port;
  options.connect_timeout = request->settings.connect_timeout;
  options.request_timeout = request->settings.request_timeout;
  auto connection = std::make_shared<sftp::SftpConnection>(options);
  auto session = connection->Session(&error);
  if (!session) {
    std::fprintf(stderr, "telemount mount: %s\n", error.c_str());
    return 1;
  }
  sftp::SftpReply reply = session->Call(
      sftp::PacketType::kStat, [&](sftp::PacketWriter& w) { w.String(request->remote_path); });
  if (reply.Errno(sftp::PacketType::kAttrs) != 0 ||
      !S_ISDIR(reply.Payload().Attributes().permissions)) {
    std::fprintf(stderr, "telemount mount: no folder %s on %s\n", request->remote_path.c_str(),
                 session->Describe().c_str());
    return 1;
  }

  SftpFileSystem filesystem(connection, request->remote_path, request->settings.cache_timeout);
  filesystem.WarmUp();
  std::vector<std::string> mount_options = {
      "fsname=" + request->host + ":" + std::to_string(request->port) + ":" + request->remote_path,
      "subtype=telemount"};
  // Other users, when allowed in, get what the files' modes give them (the kernel checks them),
  // not whatever the server grants this process's login.
  if (request->allow_other) {
    mount_options.push_back("allow_other");
    mount_options.push_back("default_permissions");
  }
  if (request->read_only) mount_options.push_back("ro");
  if (request->fuse_debug) mount_options.push_back("debug");
  auto mount = FuseMount::Start(request->mountpoint, SftpFileSystem::Operations(), &filesystem,
                                mount_options, &error);
  if (!mount) {
    std::fprintf(stderr, "telemount mount: %s\n", error.c_str());
    return 1;
  }
  spdlog::info("mounted {}:{}:{} at {}", request->host, request->port, request->remote_path,
               request->mountpoint);
  // Whichever comes first: a signal (unmount ourselves) or an external unmount (loop ends).
  std::atomic<bool> unmounted_from_outside{false};
  std::thread signal_waiter([&] {
    const int signal = shutdown.Wait();
    if (unmounted_from_outside) return;
    spdlog::info("signal {}: unmounting", signal);
    mount->Unmount();
  });
  mount->Wait();
  unmounted_from_outside = true;
  ShutdownSignal::Trigger();  // wakes the waiter, which has nothing left to do
  signal_waiter.join();
  mount.reset();
  spdlog::info("unmounted {}", request->mountpoint);
  return 0;
}

}  // namespace tp::telemount
