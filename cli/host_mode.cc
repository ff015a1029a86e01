#include "cli/host_mode.h"

#include "cli/commands.h"

namespace tp::cli {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kQuitWait{10000};
constexpr milliseconds kTerminateWait{5000};

}  // namespace

Result<std::optional<HostDaemonConnection>> FindHostDaemon(const std::string& context_name,
                                                           CliServices& services) {
  if (services.host_daemons == nullptr) return std::optional<HostDaemonConnection>();
  Result<std::optional<HostDaemonRecord>> record = services.host_daemons->Find(context_name);
  if (!record.ok()) return record.error();
  if (!record.value()) return std::optional<HostDaemonConnection>();
  const DaemonEndpoint endpoint{.port = record.value()->control_port,
                                .token = record.value()->token};
  return std::optional<HostDaemonConnection>(
      HostDaemonConnection{services.daemon_control(endpoint), endpoint, *record.value()});
}

Result<std::optional<HostDaemonConnection>> HostDaemonUnlessContainer(
    const std::string& context_name, CliServices& services) {
  Result<std::optional<std::string>> state =
      services.docker.ContainerState(DaemonContainerName(context_name));
  if (!state.ok()) return state.error();
  if (state.value()) return std::optional<HostDaemonConnection>();
  return FindHostDaemon(context_name, services);
}

bool HasHostDaemon(const std::string& context_name, CliServices& services) {
  return services.host_daemons != nullptr && services.host_daemons->HasRecord(context_name);
}

Status QuitHostDaemon(const std::string& context_name, const CliIo& io, CliServices& services) {
  HostDaemons& daemons = *services.host_daemons;
  Result<std::optional<HostDaemonConnection>> found = FindHostDaemon(context_name, services);
  if (found.ok() && found.value()) {
    const HostDaemonRecord& record = found.value()->record;
    const Status asked = found.value()->control->Quit();
    if (!asked.ok()) {
      io.err << "The daemon (pid " << record.pid << ") did not take the quit request ("
             << asked.error().message << "); stopping it with SIGTERM" << std::endl;
    }
    if (!daemons.Terminate(record, asked.ok() ? kQuitWait : kTerminateWait)) {
      return CliError{"the daemon on this host (pid " + std::to_string(record.pid) +
                      ") did not stop; stop it (kill " + std::to_string(record.pid) +
                      ") and run telepresence quit again"};
    }
  } else if (daemons.HasStaleRecord(context_name)) {
    io.err << "The daemon on this host had stopped without cleaning up; putting back what it "
              "left (resolv.conf, capture)"
           << std::endl;
  }
  return daemons.CleanUp(context_name);
}

int PrintHostDaemonStatus(const HostDaemonConnection& daemon, const std::string& context_name,
                          bool json, const CliIo& io) {
  constexpr std::string_view kCommand = "status";
  Result<nlohmann::json> body = daemon.control->GetStatus();
  if (!body.ok()) {
    return Fail(io, kCommand,
                "the daemon on this host (pid " + std::to_string(daemon.record.pid) +
                    ") does not answer on its control API: " + body.error().message +
                    "; run telepresence quit, then telepresence connect");
  }
  if (json) {
    nlohmann::json status = StatusJson(body.value(), context_name, "");
    status["container"] = nullptr;
    status["daemon_pid"] = daemon.record.pid;
    io.out << status.dump() << "\n";
    return kExitOk;
  }
  Result<DaemonStatus> status = ParseDaemonStatus(body.value());
  if (!status.ok()) return Fail(io, kCommand, status.error().message);
  io.out << FormatHostStatusText(status.value(), context_name, daemon.record.pid);
  return kExitOk;
}

}  // namespace tp::cli
