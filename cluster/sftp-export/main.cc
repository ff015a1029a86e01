// sftp-export: SFTP v3 over plain TCP, one OpenSSH sftp-server per connection. See --help.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "cluster/sftp-export/export_options.h"
#include "cluster/sftp-export/export_server.h"
#include "cluster/sftp-export/session_launcher.h"
#include "net/tcp_socket.h"

namespace {

using tp::sftp_export::ExportOptions;

int Fail(const std::string& message) {
  std::cerr << "sftp-export: " << message << "\n";
  return 1;
}

// Checks what can be checked before listening, so a wrong flag fails at start, not per session.
std::string CheckPaths(const ExportOptions& options) {
  struct stat info {};
  if (stat(options.root.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return "--root " + options.root + " is not a folder";
  }
  if (access(options.sftp_server.c_str(), X_OK) != 0) {
    return "--sftp-server " + options.sftp_server + " is not executable";
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = tp::sftp_export::ParseExportOptions({argv + 1, argv + argc});
  if (!parsed.options) {
    std::cerr << "sftp-export: " << parsed.error << "\n\n" << tp::sftp_export::ExportUsage();
    return 2;
  }
  const ExportOptions& options = *parsed.options;
  if (options.help) {
    std::cout << tp::sftp_export::ExportUsage();
    return 0;
  }
  if (const auto problem = CheckPaths(options); !problem.empty()) return Fail(problem);

  const tp::sftp_export::ProcessSignals signals;
  if (!signals.Valid()) return Fail("cannot create signalfd");
  std::string error;
  auto listener = tp::ListenTcp(options.listen, error);
  if (!listener.socket.Valid()) return Fail(error);
  const int port = listener.bound_port;
  const std::string address = listener.BoundAddress();
  if (!options.port_file.empty() && !tp::WritePortFile(options.port_file, port, error)) {
    return Fail(error);
  }
  std::cout << "listening on " << address << std::endl;

  const tp::sftp_export::SessionLauncher launcher(options, signals.OriginalMask());
  tp::sftp_export::ExportServer server(std::move(listener), launcher, signals);
  const int ended_by = server.Run();
  if (!options.port_file.empty()) unlink(options.port_file.c_str());
  return ended_by < 0 ? 1 : 0;
}
