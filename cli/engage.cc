// `telepresence replace|intercept|ingest|wiretap`, `list` and `leave`: see their --help
// (command_line.cc) and docs/engagements.md ("The CLI"). The pure parts are in
// engagement_plan.h; this file talks to the daemon (DaemonControl::Call) and Docker (DockerApi).
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.h"
#include "cli/connected_daemon.h"
#include "cli/engagement_guard.h"
#include "cli/engagement_plan.h"
#include "cli/host_mode.h"
#include "cli/private_file.h"
#include "cli/stop_signals.h"
#include "cli/teleroute_network.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

// How long the handler container may take to get its address on tp-<ctx>.
constexpr milliseconds kHandlerAddressDeadline{30000};
// How long docker run is waited for at a time while the handler's address is awaited (the
// AddressWatch follows Docker's events meanwhile; reading it does no I/O).
constexpr milliseconds kAddressWatchSlice{50};
// How long docker run is waited for at a time once the handler is set.
constexpr milliseconds kRunWaitSlice{1000};
// The exit code when SIGINT or SIGTERM ends the command before the handler runs (as a shell
// reports a process killed by SIGINT).
constexpr int kExitInterrupted = 130;
constexpr std::string_view kInterrupted = "interrupted before the handler container started";

Result<std::unique_ptr<DaemonControl>> ControlOf(const std::string& context_name,
                                                 CliServices& services) {
  Result<DaemonConnection> connection = ConnectToDaemon(context_name, services);
  if (!connection.ok()) return connection.error();
  return std::move(connection.value().control);
}

// Connects like `telepresence connect --docker` when no daemon runs (its output goes to err).
Status ConnectIfNeeded(const EngageCommand& command, const CliIo& io, CliServices& services) {
  const std::string context_name = ContextNameOrDefault(command.context_name);
  Result<std::optional<std::string>> state =
      services.docker.ContainerState(DaemonContainerName(context_name));
  if (!state.ok()) return state.error();
  if (state.value() == "running") return Ok{};
  Result<std::optional<HostDaemonConnection>> host = FindHostDaemon(context_name, services);
  if (!host.ok()) return host.error();
  if (host.value()) return Ok{};
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

// The handler's image: the user's, or the one `build` makes.
Result<std::string> HandlerImageOf(const EngageCommand& command, const std::optional<Argv>& build,
                                   const CliIo& io, DockerApi& docker) {
  if (!build) return command.docker_args.image;
  io.err << "Building the handler's image from " << command.build_dir << std::endl;
  Result<std::string> id = docker.BuildImage(*build);
  if (!id.ok()) {
    return CliError{"cannot build the image from " + command.build_dir + ": " + id.error().message};
  }
  return id.value();
}

Status CreateVolumes(const std::vector<PlannedVolume>& volumes, DockerApi& docker,
                     EngagementCleanup& cleanup) {
  // An engagement lost without its clean-up (the Docker engine stopped under it) leaves its
  // volumes, with their names and their dead server. dockerd hands an existing volume to a
  // create of the same name without asking the driver, so such leftovers go first. (Found by
  // test/docker/chaos.sh: after a dockerd restart the engagement run again failed to mount.)
  Result<std::vector<std::string>> ours =
      docker.ListLabelled(DockerResource::kVolume, std::string(kEngagementLabel));
  for (const PlannedVolume& volume : volumes) {
    if (ours.ok() && std::find(ours.value().begin(), ours.value().end(), volume.spec.name) !=
                         ours.value().end()) {
      (void)docker.Remove(DockerResource::kVolume, {volume.spec.name});  // in use: create says so
    }
    Status created = docker.CreateVolume(volume.spec);
    if (!created.ok()) {
      return CliError{"cannot create the volume " + volume.spec.name + " for " + volume.mount_path +
                      ": " + created.error().message +
                      "; check that the Docker plugin telemount:latest is enabled, or run with "
                      "--mount=false"};
    }
    cleanup.AddVolume(volume.spec.name);
  }
  return Ok{};
}

// Starts the engagement's guard (engagement_guard.h); when it cannot, says so and goes on.
std::unique_ptr<EngagementGuard> StartGuard(const EngagementPlan& plan,
                                            const DaemonEndpoint& daemon,
                                            const std::string& env_file, const CliIo& io,
                                            CliServices& services) {
  if (!services.engagement_guard) return nullptr;
  GuardedEngagement guarded{.engagement_id = plan.engagement_id,
                            .daemon = daemon,
                            .handler = plan.container,
                            .env_file = env_file};
  for (const PlannedVolume& volume : plan.volumes) guarded.volumes.push_back(volume.spec.name);
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

// The handler's docker run in the foreground until it ends. The handler is set once the container
// has its address (an AddressWatch, started before docker run: Docker's events, no polling of
// Docker); the container is stopped on SIGINT/SIGTERM, when the handler cannot be set, when no
// address comes within kHandlerAddressDeadline, and when the engagement ends under it (the daemon
// container, the traffic-agent or the traffic-manager went away), with the one command that
// engages again.
class HandlerSession {
 public:
  HandlerSession(std::string_view command, const EngagementPlan& plan, ConnectedDaemon& daemon,
                 const StopSource& stop, const CliIo& io, CliServices& services)
      : command_(command),
        plan_(plan),
        daemon_(daemon),
        stop_(stop),
        io_(io),
        services_(services) {}

  // docker's exit code, or 1 when the engagement failed.
  int Run() {
    Result<std::unique_ptr<AddressWatch>> watch =
        services_.docker.WatchForAddress(plan_.handler_network, plan_.container);
    if (!watch.ok()) return Fail(io_, command_, watch.error().message);
    io_.out.flush();
    io_.err.flush();
    Result<std::unique_ptr<ForegroundRun>> run =
        services_.docker.StartForeground(plan_.run, stop_, services_.handler_streams);
    if (!run.ok()) return Fail(io_, command_, run.error().message);
    const SteadyTime deadline = services_.clock.Now() + kHandlerAddressDeadline;
    while (true) {
      const ForegroundRun::Outcome outcome =
          run.value()->Wait(handler_set_ || stopping_ ? kRunWaitSlice : kAddressWatchSlice);
      if (outcome.event == ForegroundRun::Event::kExited) {
        if (handler_set_ && !stopping_) ExplainEndWithTheDaemon();
        return failed_ ? kExitFailure : outcome.exit_code;
      }
      if (outcome.event == ForegroundRun::Event::kInterrupted) {
        if (!stopping_) Stop("interrupted; stopping the handler container " + plan_.container);
        continue;
      }
      if (stopping_) continue;
      if (handler_set_) {
        CheckEngagement();
        continue;
      }
      LookForAddress(*watch.value(), deadline);
    }
  }

 private:
  void Stop(const std::string& why) {
    io_.err << "telepresence: " << why << std::endl;
    stopping_ = true;
    const Status stopped = services_.docker.StopContainer(plan_.container);
    if (!stopped.ok()) io_.err << "telepresence: " << stopped.error().message << std::endl;
  }

  void StopFailed(const std::string& why) {
    failed_ = true;
    Stop(why);
  }

  // Sets the handler when the watch has the address; fails when it cannot have it.
  void LookForAddress(AddressWatch& watch, SteadyTime deadline) {
    if (const std::optional<std::string> address = watch.Address()) {
      SetHandler(plan_.handler_address.empty() ? *address : plan_.handler_address);
      return;
    }
    const std::string& network = plan_.handler_network;
    if (const std::string failure = watch.Failure(); !failure.empty()) {
      StopFailed("cannot follow Docker's events for the handler container " + plan_.container +
                 "'s address on " + network + ": " + failure + "; stopping it");
      return;
    }
    if (services_.clock.Now() < deadline) return;
    StopFailed("the handler container " + plan_.container + " got no address on " + network +
               " within 30 s; stopping it");
  }

  void SetHandler(const std::string& address) {
    handler_set_ = true;
    const Result<json> set =
        daemon_.control->Call("POST", "/engagements/" + plan_.engagement_id + "/handler",
                              api::HandlerBodyToJson({address, plan_.handler_ports}));
    if (!set.ok()) {
      StopFailed("cannot send the traffic to the handler: " + set.error().message);
      return;
    }
    io_.err << "Engaged: the handler " << plan_.container << " (" << address
            << ") gets the engagement " << plan_.engagement_id << std::endl;
    if (services_.engagement_observer) services_.engagement_observer->Active(address);
  }

  // Whether the daemon is gone; `when_unknown` when that cannot be told (Docker is down).
  bool DaemonGone(bool when_unknown) {
    if (daemon_.placement.on_host) {
      const Result<std::optional<HostDaemonRecord>> found =
          services_.host_daemons->Find(daemon_.placement.context_name);
      return found.ok() ? !found.value() : when_unknown;
    }
    const Result<std::optional<std::string>> state =
        services_.docker.ContainerState(daemon_.container);
    return state.ok() ? state.value() != "running" : when_unknown;
  }

  std::string DaemonName() const {
    return daemon_.placement.on_host ? "the daemon on this host"
                                     : "the daemon container " + daemon_.container;
  }

  // The engagement ends with the daemon (quit, docker rm -f), and without a word to the daemon
  // when the traffic-agent or the traffic-manager restarts (the workload answers its traffic
  // again, the volumes lose their server): so does its handler.
  void CheckEngagement() {
    if (DaemonGone(/*when_unknown=*/false)) {
      StopFailed(DaemonName() +
                 " is gone, and the engagement with it; stopping the handler "
                 "container " +
                 plan_.container + EngageAgainAdvice(command_, plan_.workload));
      return;
    }
    if (EngagementLives(*daemon_.control, plan_.workload, plan_.engagement_id) != false) return;
    StopFailed("the engagement " + plan_.engagement_id + " of " + plan_.workload +
               " ended: the traffic-manager no longer has it (its traffic-agent or the "
               "traffic-manager restarted); stopping the handler container " +
               plan_.container + EngageAgainAdvice(command_, plan_.workload));
  }

  // docker run ended by itself: when the daemon container went too (the Docker engine stopped or
  // restarted: it stops every container), the engagement is gone with it.
  void ExplainEndWithTheDaemon() {
    if (!DaemonGone(/*when_unknown=*/true)) return;
    io_.err << "telepresence: the handler container " << plan_.container << " ended and "
            << DaemonName() << " is not running"
            << (daemon_.placement.on_host ? "" : " (did the Docker engine stop?)")
            << EngageAgainAdvice(command_, plan_.workload) << std::endl;
  }

  const std::string_view command_;
  const EngagementPlan& plan_;
  ConnectedDaemon& daemon_;
  const StopSource& stop_;
  const CliIo& io_;
  CliServices& services_;
  bool handler_set_ = false;
  bool stopping_ = false;
  bool failed_ = false;
};

// Writes the plan's env file text where docker run reads it, and to --env-file FILE; says which
// variables were left out.
Status WriteEnvFiles(const EngagementPlan& plan, const std::string& private_path,
                     std::string_view command, const CliIo& io) {
  for (const std::string& name : plan.skipped_variables) {
    io.err << "telepresence " << command << ": the variable " << name
           << " has a newline or NUL in its name or value, or an '=' in its name, which "
              "docker's --env-file cannot hold; left out"
           << std::endl;
  }
  if (Status written = WritePrivateText(private_path, plan.env_file_text); !written.ok()) {
    return written;
  }
  if (!plan.user_env_file) return Ok{};
  return WritePrivateText(*plan.user_env_file, plan.env_file_text);
}

// Runs the plan: env files, guard, volumes, the handler's docker run; ends the engagement after
// it (cleanup). Only I/O: every decision is in the plan.
int ExecutePlan(std::string_view command, const EngagementPlan& plan, const std::string& env_path,
                ConnectedDaemon& daemon, EngagementCleanup& cleanup, const StopSource& stop,
                const CliIo& io, CliServices& services) {
  if (Status written = WriteEnvFiles(plan, env_path, command, io); !written.ok()) {
    return Fail(io, command, written.error().message);
  }
  // From here on the engagement outlives a SIGKILL of this command only while its handler runs.
  std::unique_ptr<EngagementGuard> guard =
      StartGuard(plan, daemon.endpoint, env_path, io, services);
  const Status created = CreateVolumes(plan.volumes, services.docker, cleanup);
  if (stop.Take()) {
    cleanup.Finish();
    return Fail(io, command, kInterrupted, kExitInterrupted);
  }
  if (!created.ok()) {
    cleanup.Finish();
    return Fail(io, command, created.error().message);
  }
  const int exit_code = HandlerSession(command, plan, daemon, stop, io, services).Run();
  cleanup.Finish();
  guard.reset();
  return exit_code;
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
  EngagementInputs inputs{.daemon = daemon.value().placement,
                          .workload_ports = WorkloadPorts(workloads.value(), command.workload)};
  const EngageStart start = PlanEngageStart(command, inputs.workload_ports, inputs.daemon);
  inputs.ports = start.ports;
  // From here on a Ctrl-C (or the page's stop) waits to be taken, so that what was made is undone
  // before exiting.
  const std::unique_ptr<StopSource> stop =
      services.stop_source ? services.stop_source() : std::make_unique<StopSignals>();
  Result<std::string> image = HandlerImageOf(command, start.build, io, services.docker);
  if (!image.ok()) return Fail(io, kCommand, image.error().message);
  inputs.image = image.value();
  if (stop->Take()) return Fail(io, kCommand, kInterrupted, kExitInterrupted);

  Result<json> engaged =
      control.Call("POST", "/engagements", api::EngageRequestToJson(start.engage_request));
  if (!engaged.ok()) return Fail(io, kCommand, engaged.error().message);
  Result<EngagementGrant> grant = ParseEngagementGrant(engaged.value());
  if (!grant.ok()) return Fail(io, kCommand, grant.error().message);
  inputs.grant = grant.value();
  EngagementCleanup cleanup(inputs.grant.id, control, services, io.err);
  Result<std::unique_ptr<PrivateFile>> env_file =
      PrivateFile::Create("telepresence-env", "", io.environment);
  if (!env_file.ok()) return Fail(io, kCommand, env_file.error().message);
  inputs.env_file_path = env_file.value()->path();
  cleanup.SetEnvFile(std::move(env_file).value());

  Result<EngagementPlan> plan = PlanEngagement(command, inputs);
  if (!plan.ok()) return Fail(io, kCommand, plan.error().message);
  if (services.engagement_observer)
    services.engagement_observer->Planned(plan.value(), inputs.grant);
  return ExecutePlan(kCommand, plan.value(), inputs.env_file_path, daemon.value(), cleanup, *stop,
                     io, services);
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
  if (command.output == OutputFormat::kJson) {
    io.out << api::WorkloadListToJson(workloads.value()).dump() << "\n";
  } else {
    io.out << FormatWorkloadTable(workloads.value());
  }
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
