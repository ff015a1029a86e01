// `telepresence replace|intercept|ingest|wiretap`, `list` and `leave`: see their --help
// (command_line.cc) and docs/engagements.md ("The CLI"). The pure parts are in
// engagement_plan.h; this file talks to the daemon (DaemonControl::Call) and Docker (DockerApi).
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <system_error>

#include "cli/commands.h"
#include "cli/engagement_guard.h"
#include "cli/engagement_plan.h"
#include "cli/host_interfaces.h"
#include "cli/private_file.h"
#include "cli/stop_signals.h"
#include "cli/teleroute_network.h"
#include "net/unique_fd.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

// How long the handler container may take to get its address on tp-<ctx>.
constexpr milliseconds kHandlerAddressDeadline{30000};
// How often the handler's address is looked for while docker run starts: one network inspect
// over the Engine API's socket, about a millisecond (docker run's own process does the waiting).
constexpr milliseconds kAddressPollInterval{25};
// How long docker run is waited for at a time once the handler is set.
constexpr milliseconds kRunWaitSlice{1000};
// The exit code when SIGINT or SIGTERM ends the command before the handler runs (as a shell
// reports a process killed by SIGINT).
constexpr int kExitInterrupted = 130;
constexpr std::string_view kInterrupted = "interrupted before the handler container started";

std::string ContextFlagText(const std::string& context_name) {
  return context_name == kDefaultContextName ? "" : " --context " + context_name;
}

CliError NotConnected(const std::string& context_name) {
  return CliError{"not connected (no daemon container " + DaemonContainerName(context_name) +
                  " runs); run telepresence connect --docker" + ContextFlagText(context_name) +
                  " first"};
}

// The control API of the context's running daemon, and where it is.
struct DaemonConnection {
  std::unique_ptr<DaemonControl> control;
  DaemonEndpoint endpoint;
};

Result<DaemonConnection> ConnectToDaemon(const std::string& context_name, CliServices& services) {
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return state.error();
  if (state.value() != "running") return NotConnected(context_name);
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) return endpoint.error();
  return DaemonConnection{services.daemon_control(endpoint.value()), endpoint.value()};
}

Result<std::unique_ptr<DaemonControl>> ControlOf(const std::string& context_name,
                                                 CliServices& services) {
  Result<DaemonConnection> connection = ConnectToDaemon(context_name, services);
  if (!connection.ok()) return connection.error();
  return std::move(connection.value().control);
}

// The address (without prefix length) of `container` on `network`; nullopt when it has none.
std::optional<std::string> AddressIn(const DockerNetwork& network, const std::string& container) {
  for (const auto& endpoint : network.containers) {
    if (endpoint.name == container && !endpoint.ipv4_address.empty()) {
      return endpoint.ipv4_address.substr(0, endpoint.ipv4_address.find('/'));
    }
  }
  return std::nullopt;
}

Result<std::optional<std::string>> AddressOn(DockerApi& docker, const std::string& network,
                                             const std::string& container) {
  Result<std::optional<DockerNetwork>> found = docker.InspectNetwork(network);
  if (!found.ok()) return found.error();
  if (!found.value()) return std::optional<std::string>();
  return AddressIn(*found.value(), container);
}

// What an engagement needs of the connected daemon.
struct ConnectedDaemon {
  std::unique_ptr<DaemonControl> control;
  DaemonEndpoint endpoint;
  std::string container;  // tp-<ctx>-cn
  std::string network;    // tp-<ctx>
  std::string dns;        // the daemon's address on it
  std::vector<std::string> dns_search;
  std::string bridge_address;  // the daemon's address on Docker's default bridge (telemount)
  std::string bridge_gateway;  // the host's on it: where the telemount plugin connects from
};

Result<ConnectedDaemon> FindConnectedDaemon(const std::string& context_name,
                                            CliServices& services) {
  Result<std::string> dns = DaemonAddressOnNetwork(context_name, services.docker);
  if (!dns.ok()) return dns.error();
  Result<DaemonConnection> connection = ConnectToDaemon(context_name, services);
  if (!connection.ok()) return connection.error();
  Result<DaemonStatus> status = FetchDaemonStatus(*connection.value().control);
  if (!status.ok()) return status.error();
  const std::string container = DaemonContainerName(context_name);
  Result<std::optional<DockerNetwork>> bridge = services.docker.InspectNetwork("bridge");
  if (!bridge.ok()) return bridge.error();
  const std::optional<std::string> address =
      bridge.value() ? AddressIn(*bridge.value(), container) : std::nullopt;
  const std::optional<Ipv4Address> gateway =
      bridge.value() ? DefaultBridgeGateway(*bridge.value(), InterfaceIpv4Address) : std::nullopt;
  if (!address || !gateway) {
    return CliError{"the daemon container " + container +
                    " has no address on Docker's bridge network, which the remote volumes are "
                    "mounted from; run telepresence quit, then telepresence connect --docker"};
  }
  return ConnectedDaemon{.control = std::move(connection.value().control),
                         .endpoint = connection.value().endpoint,
                         .container = container,
                         .network = TelerouteNetworkName(context_name),
                         .dns = dns.value(),
                         .dns_search = status.value().dns_search,
                         .bridge_address = *address,
                         .bridge_gateway = gateway->ToString()};
}

// Connects like `telepresence connect --docker` when no daemon runs (its output goes to err).
Status ConnectIfNeeded(const EngageCommand& command, const CliIo& io, CliServices& services) {
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<std::optional<std::string>> state =
      services.docker.ContainerState(DaemonContainerName(context_name));
  if (!state.ok()) return state.error();
  if (state.value() == "running") return Ok{};
  io.err << "No daemon runs for context " << context_name << "; connecting with --docker first"
         << std::endl;
  CliIo connect_io{io.err, io.err, io.environment};
  if (RunConnect(ConnectCommand{.context_name = command.context_name}, connect_io, services) !=
      kExitOk) {
    return CliError{
        "could not connect (see above); fix that, or run telepresence connect --docker" +
        ContextFlagText(context_name) + " and try again"};
  }
  return Ok{};
}

std::vector<uint16_t> WorkloadPorts(const std::vector<WorkloadInfo>& workloads,
                                    const std::string& name) {
  for (const WorkloadInfo& workload : workloads) {
    if (workload.workload == name) return workload.ports;
  }
  return {};
}

// Ends the engagement when it goes out of scope (or at Finish): DELETE /engagements/<id>, then
// the volumes (retried while Docker still holds them), then the env file. Problems are said on
// err; none stops the rest.
class EngagementCleanup {
 public:
  EngagementCleanup(std::string id, DaemonControl& control, CliServices& services,
                    std::ostream& err)
      : id_(std::move(id)), control_(control), services_(services), err_(err) {}
  ~EngagementCleanup() { Finish(); }
  EngagementCleanup(const EngagementCleanup&) = delete;
  EngagementCleanup& operator=(const EngagementCleanup&) = delete;

  void AddVolume(const std::string& name) { volumes_.push_back(name); }
  void SetEnvFile(std::unique_ptr<PrivateFile> file) { env_file_ = std::move(file); }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    Result<json> left = control_.Call("DELETE", "/engagements/" + id_, nullptr);
    if (!left.ok()) {
      err_ << "telepresence: could not end the engagement " << id_ << ": " << left.error().message
           << " (it ends when the daemon quits)" << std::endl;
    }
    for (const std::string& volume : volumes_) RemoveVolume(volume);
    env_file_.reset();
  }

 private:
  void RemoveVolume(const std::string& volume) {
    const Status removed = RemoveVolumeWithin(services_.docker, services_.clock, volume);
    if (removed.ok()) return;
    err_ << "telepresence: could not remove the volume " << volume << ": "
         << removed.error().message << "; telepresence quit removes it" << std::endl;
  }

  const std::string id_;
  DaemonControl& control_;
  CliServices& services_;
  std::ostream& err_;
  std::vector<std::string> volumes_;
  std::unique_ptr<PrivateFile> env_file_;
  bool finished_ = false;
};

// The workload's environment holds its secrets: the file is the user's only (0600), also when it
// existed before with wider permissions.
Status WriteUserEnvFile(const std::string& path, const std::string& text) {
  UniqueFd file(::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!file.Valid() || ::fchmod(file.Get(), 0600) != 0) {
    return CliError{"cannot write the env file " + path + ": " + std::strerror(errno)};
  }
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(file.Get(), text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return CliError{"cannot write the env file " + path + ": " + std::strerror(errno)};
    written += static_cast<size_t>(n);
  }
  return Ok{};
}

Result<std::string> BuildHandlerImage(const EngageCommand& command, const CliIo& io,
                                      DockerApi& docker) {
  if (command.image_source == HandlerImage::kDockerRun) return command.docker_args.image;
  io.err << "Building the handler's image from " << command.build_dir << std::endl;
  Result<std::string> id =
      docker.BuildImage(DockerBuildCommand(command.build_dir, command.build_options));
  if (!id.ok()) {
    return CliError{"cannot build the image from " + command.build_dir + ": " + id.error().message};
  }
  return id.value();
}

Status CreateVolumes(const std::vector<RemoteVolume>& volumes, const SftpSource& source,
                     const std::string& context_name, const std::string& id, DockerApi& docker,
                     EngagementCleanup& cleanup) {
  // An engagement lost without its clean-up (the Docker engine stopped under it) leaves its
  // volumes, with their names and their dead server. dockerd hands an existing volume to a
  // create of the same name without asking the driver, so such leftovers go first. (Found by
  // test/docker/chaos.sh: after a dockerd restart the engagement run again failed to mount.)
  Result<std::vector<std::string>> ours =
      docker.ListLabelled(DockerResource::kVolume, std::string(kEngagementLabel));
  for (const RemoteVolume& volume : volumes) {
    if (ours.ok() &&
        std::find(ours.value().begin(), ours.value().end(), volume.name) != ours.value().end()) {
      (void)docker.Remove(DockerResource::kVolume, {volume.name});  // in use: create says so
    }
    Status created = docker.CreateVolume(VolumeCreateSpec(volume, source, context_name, id));
    if (!created.ok()) {
      return CliError{"cannot create the volume " + volume.name + " for " + volume.mount_path +
                      ": " + created.error().message +
                      "; check that the Docker plugin telemount:latest is enabled, or run with "
                      "--mount=false"};
    }
    cleanup.AddVolume(volume.name);
  }
  return Ok{};
}

// The container name the handler runs as: the user's --name, else ours.
std::string HandlerName(const DockerRunArgs& args, const std::string& ours) {
  for (const DockerRunFlag& flag : ReadDockerRunFlags(args.flags)) {
    if (flag.name == "--name" && flag.value) return *flag.value;
  }
  return ours;
}

// Starts the engagement's guard (engagement_guard.h); when it cannot, says so and goes on.
std::unique_ptr<EngagementGuard> StartGuard(const std::string& id, const DaemonEndpoint& daemon,
                                            const std::string& handler,
                                            const std::vector<RemoteVolume>& volumes,
                                            const std::string& env_file, const CliIo& io,
                                            CliServices& services) {
  if (!services.engagement_guard) return nullptr;
  GuardedEngagement guarded{
      .engagement_id = id, .daemon = daemon, .handler = handler, .env_file = env_file};
  for (const RemoteVolume& volume : volumes) guarded.volumes.push_back(volume.name);
  Result<std::unique_ptr<EngagementGuard>> guard = services.engagement_guard(guarded);
  if (guard.ok()) return std::move(guard).value();
  io.err << "telepresence: " << guard.error().message
         << "; the engagement ends only if this command does" << std::endl;
  return nullptr;
}

// Whether the traffic-manager still has the engagement ID of WORKLOAD, as GET /workloads shows:
// false when the workload is listed without it, or not listed (the manager ends a workload's
// engagements when its traffic-agent goes, and all of a daemon's when that daemon's tunnel goes:
// a restarted agent or manager has none); nullopt when the daemon or the manager cannot say now.
std::optional<bool> EngagementLives(DaemonControl& control, const std::string& workload,
                                    const std::string& id) {
  Result<json> listed = control.Call("GET", "/workloads", nullptr);
  if (!listed.ok()) return std::nullopt;
  Result<std::vector<WorkloadInfo>> workloads = ParseWorkloads(listed.value());
  if (!workloads.ok()) return std::nullopt;
  for (const WorkloadInfo& info : workloads.value()) {
    if (info.workload == workload) return info.engagement && info.engagement->id == id;
  }
  return false;
}

// The one command that engages again after the engagement was lost.
std::string EngageAgainAdvice(std::string_view command, const std::string& workload) {
  return "; to engage again, run `telepresence " + std::string(command) + " " + workload +
         " ...` again";
}

// docker run in the foreground until it ends; sets the handler once the container has its
// address; stops the container on SIGINT/SIGTERM, when the handler cannot be set, or when the
// engagement ends under it (the daemon container, the traffic-agent or the traffic-manager went
// away). The exit code is docker's, or 1 when the engagement failed.
int RunHandler(std::string_view command, const Argv& argv, const std::string& container,
               const std::string& workload, const std::string& id, const EngagedPorts& ports,
               ConnectedDaemon& daemon, const CliIo& io, CliServices& services) {
  io.out.flush();
  io.err.flush();
  Result<std::unique_ptr<ForegroundRun>> run = services.docker.StartForeground(argv);
  if (!run.ok()) return Fail(io, command, run.error().message);
  const SteadyTime deadline = services.clock.Now() + kHandlerAddressDeadline;
  bool handler_set = false;
  bool stopping = false;
  bool failed = false;
  auto stop = [&](const std::string& why) {
    if (!why.empty()) io.err << "telepresence: " << why << std::endl;
    stopping = true;
    Status stopped = services.docker.StopContainer(container);
    if (!stopped.ok()) io.err << "telepresence: " << stopped.error().message << std::endl;
  };
  while (true) {
    ForegroundRun::Outcome outcome =
        run.value()->Wait(handler_set || stopping ? kRunWaitSlice : kAddressPollInterval);
    if (outcome.event == ForegroundRun::Event::kExited) {
      // docker run ended by itself: when the daemon container went too (the Docker engine
      // stopped or restarted: it stops every container), the engagement is gone with it.
      if (handler_set && !stopping) {
        Result<std::optional<std::string>> state = services.docker.ContainerState(daemon.container);
        if (!state.ok() || state.value() != "running") {
          io.err << "telepresence: the handler container " << container
                 << " ended and the daemon container " << daemon.container
                 << " is not running (did the Docker engine stop?)"
                 << EngageAgainAdvice(command, workload) << std::endl;
        }
      }
      return failed ? kExitFailure : outcome.exit_code;
    }
    if (outcome.event == ForegroundRun::Event::kInterrupted) {
      if (!stopping) stop("interrupted; stopping the handler container " + container);
      continue;
    }
    if (stopping) continue;
    if (handler_set) {
      // The engagement ends with the daemon (quit, docker rm -f): so does its handler.
      Result<std::optional<std::string>> state = services.docker.ContainerState(daemon.container);
      if (state.ok() && state.value() != "running") {
        failed = true;
        stop("the daemon container " + daemon.container +
             " is gone, and the engagement with it; stopping the handler container " + container +
             EngageAgainAdvice(command, workload));
        continue;
      }
      // A restarted traffic-agent or traffic-manager ends the engagement without a word to the
      // daemon: the workload answers its traffic again and the volumes lose their server. Say so
      // instead of leaving a handler that nothing reaches.
      if (EngagementLives(*daemon.control, workload, id) == false) {
        failed = true;
        stop("the engagement " + id + " of " + workload +
             " ended: the traffic-manager no longer has it (its traffic-agent or the "
             "traffic-manager restarted); stopping the handler container " +
             container + EngageAgainAdvice(command, workload));
      }
      continue;
    }
    Result<std::optional<std::string>> address =
        AddressOn(services.docker, daemon.network, container);
    if (address.ok() && address.value()) {
      Result<json> set = daemon.control->Call("POST", "/engagements/" + id + "/handler",
                                              HandlerRequest(*address.value(), ports));
      handler_set = true;
      if (!set.ok()) {
        failed = true;
        stop("cannot send the traffic to the handler: " + set.error().message);
        continue;
      }
      io.err << "Engaged: the handler " << container << " (" << *address.value()
             << ") gets the engagement " << id << std::endl;
      continue;
    }
    if (services.clock.Now() >= deadline) {
      failed = true;
      stop("the handler container " + container + " got no address on " + daemon.network +
           " within 30 s; stopping it");
    }
  }
}

}  // namespace

int RunEngage(const EngageCommand& command, const CliIo& io, CliServices& services) {
  const std::string_view kCommand = EngagementModeName(command.mode);
  const std::string context_name = ContextNameOrDefault(command.context_name);
  if (Status connected = ConnectIfNeeded(command, io, services); !connected.ok()) {
    return Fail(io, kCommand, connected.error().message);
  }
  Result<ConnectedDaemon> daemon = FindConnectedDaemon(context_name, services);
  if (!daemon.ok()) return Fail(io, kCommand, daemon.error().message);
  DaemonControl& control = *daemon.value().control;
  Result<json> listed = control.Call("GET", "/workloads", nullptr);
  Result<std::vector<WorkloadInfo>> workloads =
      listed.ok() ? ParseWorkloads(listed.value())
                  : Result<std::vector<WorkloadInfo>>(listed.error());
  if (!workloads.ok()) return Fail(io, kCommand, workloads.error().message);
  const std::vector<uint16_t> workload_ports = WorkloadPorts(workloads.value(), command.workload);
  const EngagedPorts ports = ResolvePorts(command.mode, command.ports, workload_ports);
  // From here on a Ctrl-C waits to be taken, so that what was made is undone before exiting.
  const StopSignals stop_signals;
  Result<std::string> image = BuildHandlerImage(command, io, services.docker);
  if (!image.ok()) return Fail(io, kCommand, image.error().message);
  if (stop_signals.Take()) return Fail(io, kCommand, kInterrupted, kExitInterrupted);

  Result<json> engaged = control.Call("POST", "/engagements",
                                      EngageRequest(command, ports, daemon.value().bridge_gateway));
  if (!engaged.ok()) return Fail(io, kCommand, engaged.error().message);
  Result<EngagementGrant> grant = ParseEngagementGrant(engaged.value());
  if (!grant.ok()) return Fail(io, kCommand, grant.error().message);
  std::unique_ptr<EngagementGuard> guard;  // released after the cleanup (declared before it)
  EngagementCleanup cleanup(grant.value().id, control, services, io.err);

  std::vector<std::string> skipped;
  const std::string env_text = EnvFileText(grant.value().env, &skipped);
  for (const std::string& name : skipped) {
    io.err << "telepresence " << kCommand << ": the variable " << name
           << " has a newline or NUL in its name or value, or an '=' in its name, which "
              "docker's --env-file cannot hold; left out"
           << std::endl;
  }
  Result<std::unique_ptr<PrivateFile>> env_file =
      PrivateFile::Create("telepresence-env", env_text, io.environment);
  if (!env_file.ok()) return Fail(io, kCommand, env_file.error().message);
  const std::string env_path = env_file.value()->path();
  cleanup.SetEnvFile(std::move(env_file).value());
  if (command.env_file) {
    if (Status written = WriteUserEnvFile(*command.env_file, env_text); !written.ok()) {
      return Fail(io, kCommand, written.error().message);
    }
  }
  Result<std::vector<RemoteVolume>> volumes = PlanVolumes(command, grant.value().mounts);
  if (!volumes.ok()) return Fail(io, kCommand, volumes.error().message);
  // From here on the engagement outlives a SIGKILL of this command only while its handler runs.
  guard = StartGuard(
      grant.value().id, daemon.value().endpoint,
      HandlerName(command.docker_args,
                  HandlerContainerName(command.name, grant.value().ports, workload_ports)),
      volumes.value(), env_path, io, services);
  SftpSource source{.host = daemon.value().bridge_address,
                    .port = grant.value().sftp_port,
                    .container = grant.value().container,
                    .token = grant.value().sftp_token};
  if (Status created = CreateVolumes(volumes.value(), source, context_name, grant.value().id,
                                     services.docker, cleanup);
      !created.ok()) {
    if (stop_signals.Take()) return Fail(io, kCommand, kInterrupted, kExitInterrupted);
    return Fail(io, kCommand, created.error().message);
  }
  if (stop_signals.Take()) return Fail(io, kCommand, kInterrupted, kExitInterrupted);

  HandlerRun run{
      .network = daemon.value().network,
      .dns = daemon.value().dns,
      .dns_search = daemon.value().dns_search,
      .container_name = HandlerContainerName(command.name, grant.value().ports, workload_ports),
      .context_name = context_name,
      .engagement_id = grant.value().id,
      .env_file = env_path,
      .volumes = volumes.value(),
      .debug = command.image_source == HandlerImage::kDockerDebug,
      .image = image.value()};
  const std::string container = HandlerName(command.docker_args, run.container_name);
  int exit_code =
      RunHandler(kCommand, HandlerRunCommand(run, command.docker_args), container, command.workload,
                 grant.value().id, ports, daemon.value(), io, services);
  cleanup.Finish();
  guard.reset();
  return exit_code;
}

int RunList(const ListCommand& command, const CliIo& io, CliServices& services) {
  constexpr std::string_view kCommand = "list";
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<std::unique_ptr<DaemonControl>> control = ControlOf(context_name, services);
  if (!control.ok()) return Fail(io, kCommand, control.error().message);
  Result<json> listed = control.value()->Call("GET", "/workloads", nullptr);
  if (!listed.ok()) return Fail(io, kCommand, listed.error().message);
  Result<std::vector<WorkloadInfo>> workloads = ParseWorkloads(listed.value());
  if (!workloads.ok()) return Fail(io, kCommand, workloads.error().message);
  io.out << FormatWorkloadTable(workloads.value());
  return kExitOk;
}

int RunLeave(const LeaveCommand& command, const CliIo& io, CliServices& services) {
  constexpr std::string_view kCommand = "leave";
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<std::unique_ptr<DaemonControl>> control = ControlOf(context_name, services);
  if (!control.ok()) return Fail(io, kCommand, control.error().message);
  Result<json> listed = control.value()->Call("GET", "/engagements", nullptr);
  Result<std::vector<EngagementSummary>> engagements =
      listed.ok() ? ParseEngagements(listed.value())
                  : Result<std::vector<EngagementSummary>>(listed.error());
  if (!engagements.ok()) return Fail(io, kCommand, engagements.error().message);
  const EngagementSummary* found = nullptr;
  std::string names;
  for (const EngagementSummary& engagement : engagements.value()) {
    if (engagement.name == command.name) found = &engagement;
    names += (names.empty() ? "" : ", ") + engagement.name;
  }
  if (found == nullptr) {
    return Fail(io, kCommand,
                "no engagement named " + command.name + "; the engagements are " +
                    (names.empty() ? "none" : names) + " (telepresence list shows them)");
  }
  Result<json> left = control.value()->Call("DELETE", "/engagements/" + found->id, nullptr);
  if (!left.ok()) return Fail(io, kCommand, left.error().message);
  const std::string label = std::string(kEngagementLabel) + "=" + found->id;
  Result<std::vector<std::string>> containers =
      services.docker.ListLabelled(DockerResource::kContainer, label);
  if (!containers.ok()) return Fail(io, kCommand, containers.error().message);
  if (Status removed = services.docker.Remove(DockerResource::kContainer, containers.value());
      !removed.ok()) {
    return Fail(io, kCommand, removed.error().message);
  }
  io.out << "Left " << command.name << " (" << found->id << ")";
  if (!containers.value().empty()) io.out << "; removed " << JoinOrNone(containers.value());
  io.out << "\n";
  return kExitOk;
}

}  // namespace tp::cli
