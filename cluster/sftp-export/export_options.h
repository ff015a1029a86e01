// Command-line options of sftp-export and their parser.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace tp::sftp_export {

inline constexpr char kDefaultSftpServer[] = "/usr/lib/openssh/sftp-server";
inline constexpr char kDefaultListen[] = "127.0.0.1:0";

struct ExportOptions {
  std::string root;                              // --root: the start directory of every session
  std::string listen = kDefaultListen;           // --listen HOST:PORT ([v6]:PORT for IPv6)
  std::string port_file;                         // --port-file: empty means none
  std::string sftp_server = kDefaultSftpServer;  // --sftp-server: the program run per connection
  bool read_only = false;                        // --read-only: sftp-server -R
  bool help = false;                             // --help
};

// The outcome of parsing: options, or a message saying what is wrong.
struct ParsedOptions {
  std::optional<ExportOptions> options;
  std::string error;
};

// Parses argv (without argv[0]). Accepts `--name value` and `--name=value`.
ParsedOptions ParseExportOptions(const std::vector<std::string>& args);

// The text printed for --help.
std::string ExportUsage();

}  // namespace tp::sftp_export
