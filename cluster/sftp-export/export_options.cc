#include "cluster/sftp-export/export_options.h"

#include <map>
#include <string_view>

namespace tp::sftp_export {
namespace {

// Splits "--name=value" into name and value; a plain "--name" gives no value.
std::pair<std::string, std::optional<std::string>> SplitFlag(const std::string& arg) {
  const auto equals = arg.find('=');
  if (equals == std::string::npos) return {arg, std::nullopt};
  return {arg.substr(0, equals), arg.substr(equals + 1)};
}

// The option fields that take a value, by flag name.
std::map<std::string, std::string*> ValueFlags(ExportOptions& options) {
  return {{"--root", &options.root},
          {"--listen", &options.listen},
          {"--port-file", &options.port_file},
          {"--sftp-server", &options.sftp_server}};
}

}  // namespace

ParsedOptions ParseExportOptions(const std::vector<std::string>& args) {
  ExportOptions options;
  const auto value_flags = ValueFlags(options);
  for (size_t i = 0; i < args.size(); ++i) {
    auto [name, value] = SplitFlag(args[i]);
    if (name == "--help" || name == "-h") {
      options.help = true;
      return {options, ""};
    }
    if (name == "--read-only") {
      options.read_only = true;
      continue;
    }
    const auto flag = value_flags.find(name);
    if (flag == value_flags.end()) return {std::nullopt, "unknown argument: " + args[i]};
    if (!value) {
      if (i + 1 >= args.size()) return {std::nullopt, name + " needs a value"};
      value = args[++i];
    }
    *flag->second = *value;
  }
  if (options.root.empty()) return {std::nullopt, "--root DIR is required"};
  return {options, ""};
}

std::string ExportUsage() {
  return "usage: sftp-export --root DIR [--listen HOST:PORT] [--port-file FILE]\n"
         "                   [--sftp-server PATH] [--read-only]\n"
         "\n"
         "Serves SFTP v3 over plain TCP (no SSH): every accepted connection gets its own\n"
         "sftp-server process with the socket as stdin/stdout and DIR as start directory\n"
         "(relative paths resolve against DIR; absolute paths stay absolute: not a chroot).\n"
         "\n"
         "  --root DIR          start directory of every session (required)\n"
         "  --listen HOST:PORT  address to listen on, default 127.0.0.1:0 (a free port);\n"
         "                      IPv6 as [::1]:PORT\n"
         "  --port-file FILE    write the bound port number to FILE (atomically) when ready\n"
         "  --sftp-server PATH  server program, default /usr/lib/openssh/sftp-server\n"
         "  --read-only         run sessions read-only (sftp-server -R)\n"
         "  --help              this text\n"
         "\n"
         "Prints `listening on HOST:PORT` on stdout once ready. SIGTERM or SIGINT ends it and\n"
         "every live session.\n";
}

}  // namespace tp::sftp_export
