// `telepresence compose`: see its --help (command_help.cc) and the README's "Compose". The pure
// parts are compose_spec.h (the x-tele of the files), compose_override.h (the override document
// and the volumes) and compose_state.h (what `up` leaves for `down`); this file reads the files,
// talks to the daemon (DaemonControl) and Docker (DockerApi) and runs docker-compose (argv only).
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>
#include <vector>

#include "cli/commands.h"
#include "cli/compose_override.h"
#include "cli/compose_spec.h"
#include "cli/compose_state.h"
#include "cli/connected_daemon.h"
#include "cli/private_file.h"
#include "cli/stop_signals.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::string_view kCommand = "compose";
constexpr std::string_view kComposeProgram = "docker-compose";
// How long a detached `up`'s engaged containers may take to have their address on tp-<ctx>.
constexpr milliseconds kHandlerAddressDeadline{30000};
constexpr milliseconds kHandlerPollInterval{200};
// How long a foreground docker-compose is waited for at a time between looks for handlers.
constexpr milliseconds kForegroundWaitSlice{250};

// The files docker-compose reads by default, the first that exists, and its override.
constexpr std::string_view kDefaultFiles[] = {"docker-compose.yml", "docker-compose.yaml",
                                              "compose.yaml", "compose.yml"};
constexpr std::string_view kDefaultOverrides[] = {"docker-compose.override.yml",
                                                  "docker-compose.override.yaml"};

// What every subcommand works with: the files, the project, and its folder of private files.
struct ComposeSetup {
  std::vector<std::string> files;
  std::string project;
  fs::path directory;  // ComposeStateDirectory

  fs::path OverrideFile() const { return directory / "override.json"; }
  fs::path StateFile() const { return directory / "state.json"; }
  fs::path EnvFile(const std::string& service) const { return directory / (service + ".env"); }
};

Result<std::vector<std::string>> ComposeFiles(const ComposeCommand& command) {
  if (!command.files.empty()) return command.files;
  std::vector<std::string> files;
  for (std::string_view name : kDefaultFiles) {
    if (!fs::exists(name)) continue;
    files.emplace_back(name);
    break;
  }
  if (files.empty()) {
    return CliError{
        "no compose file: give one with -f FILE, or run in a folder with a "
        "docker-compose.yml"};
  }
  for (std::string_view name : kDefaultOverrides) {
    if (fs::exists(name)) files.emplace_back(name);
  }
  return files;
}

// The files as absolute paths (as docker-compose reads them from here), so that quit can take the
// project down from anywhere.
std::vector<std::string> Absolute(const std::vector<std::string>& files,
                                  const fs::path& working_directory) {
  std::vector<std::string> absolute;
  for (const std::string& file : files) {
    absolute.push_back((working_directory / file).lexically_normal().string());
  }
  return absolute;
}

Result<ComposeSetup> SetUp(const ComposeCommand& command, const CliIo& io) {
  Result<std::vector<std::string>> files = ComposeFiles(command);
  if (!files.ok()) return files.error();
  std::error_code error;
  const fs::path working_directory = fs::current_path(error);
  files = Absolute(files.value(), working_directory);
  Result<std::string> project =
      ComposeProjectName(command.project_name, io.environment("COMPOSE_PROJECT_NAME"),
                         files.value(), working_directory);
  if (!project.ok()) return project.error();
  Result<fs::path> contexts = ContextsDirectory(io.environment);
  if (!contexts.ok()) return contexts.error();
  return ComposeSetup{.files = files.value(),
                      .project = project.value(),
                      .directory = ComposeStateDirectory(contexts.value(), project.value())};
}

// docker-compose -p PROJECT -f FILE... [-f OVERRIDE] WORDS...
Argv ComposeArgv(const ComposeSetup& setup, bool with_override,
                 const std::vector<std::string>& words) {
  Argv argv{std::string(kComposeProgram), "-p", setup.project};
  for (const std::string& file : setup.files) argv.insert(argv.end(), {"-f", file});
  if (with_override) argv.insert(argv.end(), {"-f", setup.OverrideFile().string()});
  argv.insert(argv.end(), words.begin(), words.end());
  return argv;
}

Result<ComposeProject> ReadProject(const std::vector<std::string>& files) {
  std::vector<ComposeProject> parsed;
  for (const std::string& file : files) {
    std::ifstream in(file);
    if (!in) return CliError{"cannot read the compose file " + file};
    std::stringstream text;
    text << in.rdbuf();
    Result<ComposeProject> project = ParseComposeFile(text.str(), file);
    if (!project.ok()) return project.error();
    parsed.push_back(project.value());
  }
  return MergeComposeFiles(parsed);
}

Result<std::optional<ComposeState>> LoadState(const ComposeSetup& setup) {
  std::ifstream in(setup.StateFile());
  if (!in) return std::optional<ComposeState>();
  json body = json::parse(in, nullptr, /*allow_exceptions=*/false);
  Result<ComposeState> state = ComposeStateFromJson(body, setup.StateFile().string());
  if (!state.ok()) return state.error();
  return std::optional<ComposeState>(state.value());
}

Status CreatePrivateDirectory(const fs::path& directory) {
  std::error_code error;
  fs::create_directories(directory, error);
  if (!error) fs::permissions(directory, fs::perms::owner_all, fs::perm_options::replace, error);
  if (error) return CliError{"cannot create " + directory.string() + ": " + error.message()};
  return Ok{};
}

bool WantsDetached(const std::vector<std::string>& words) {
  return std::any_of(words.begin() + 1, words.end(),
                     [](const std::string& word) { return word == "-d" || word == "--detach"; });
}

std::vector<uint16_t> PortsOf(const std::vector<WorkloadInfo>& workloads,
                              const std::string& workload) {
  for (const WorkloadInfo& info : workloads) {
    if (info.workload == workload) return info.ports;
  }
  return {};
}

Status RequireWorkloads(const ComposeProject& project, const std::vector<WorkloadInfo>& workloads) {
  std::string names;
  for (const WorkloadInfo& info : workloads) names += (names.empty() ? "" : ", ") + info.workload;
  for (const ComposeService& service : project.services) {
    if (!service.engagement) continue;
    auto named = [&service](const WorkloadInfo& info) {
      return info.workload == service.engagement->workload;
    };
    if (std::any_of(workloads.begin(), workloads.end(), named)) continue;
    return CliError{"the service " + service.name + " engages the workload " +
                    service.engagement->workload +
                    ", which the cluster does not have; its "
                    "workloads are " +
                    (names.empty() ? "none" : names) + " (telepresence list shows them)"};
  }
  return Ok{};
}

// Says a clean-up problem on err and remembers that there was one; none stops the rest.
class CleanupReport {
 public:
  explicit CleanupReport(const CliIo& io) : io_(io) {}
  void Problem(const std::string& problem) {
    io_.err << "telepresence compose: " << problem << std::endl;
    clean_ = false;
  }
  bool clean() const { return clean_; }

 private:
  const CliIo& io_;
  bool clean_ = true;
};

// Ends the engagements of `state` that the daemon still has (none when no daemon runs: they went
// with it), so that the workloads answer their traffic again at once.
void EndEngagements(const std::optional<ComposeState>& state, const CliIo& io,
                    CliServices& services, CleanupReport& report) {
  if (!state || state->engagements.empty()) return;
  Result<DaemonConnection> daemon = ConnectToDaemon(state->context_name, services);
  if (!daemon.ok()) return;
  Result<json> listed = daemon.value().control->Call("GET", "/engagements", nullptr);
  Result<std::vector<EngagementSummary>> live =
      listed.ok() ? ParseEngagements(listed.value())
                  : Result<std::vector<EngagementSummary>>(listed.error());
  if (!live.ok()) {
    report.Problem("cannot list the daemon's engagements: " + live.error().message);
    return;
  }
  for (const ComposeEngagementRecord& record : state->engagements) {
    auto same = [&record](const EngagementSummary& summary) { return summary.id == record.id; };
    if (std::none_of(live.value().begin(), live.value().end(), same)) continue;
    Result<json> left =
        daemon.value().control->Call("DELETE", "/engagements/" + record.id, nullptr);
    if (!left.ok()) {
      report.Problem("could not end the engagement " + record.id + ": " + left.error().message);
      continue;
    }
    io.err << "Ended the engagement " << record.id << " of " << record.workload << " (service "
           << record.service << ")" << std::endl;
  }
}

// Removes the volumes labelled with the project (recorded or not: a run that stopped half-way
// made some) and the project's folder. Call it once the containers that use them are gone.
void RemoveProjectFiles(const ComposeSetup& setup, CliServices& services, CleanupReport& report) {
  const std::string label = std::string(kComposeProjectLabel) + "=" + setup.project;
  Result<std::vector<std::string>> labelled =
      services.docker.ListLabelled(DockerResource::kVolume, label);
  if (!labelled.ok())
    report.Problem("cannot list the project's volumes: " + labelled.error().message);
  for (const std::string& volume : labelled.ok() ? labelled.value() : std::vector<std::string>{}) {
    if (Status removed = RemoveVolumeWithin(services.docker, services.clock, volume);
        !removed.ok()) {
      report.Problem("could not remove the volume " + volume + ": " + removed.error().message);
    }
  }
  std::error_code error;
  fs::remove_all(setup.directory, error);
  if (error)
    report.Problem("could not remove " + setup.directory.string() + ": " + error.message());
  fs::remove(setup.directory.parent_path(), error);  // the compose folder, when it is empty
}

// One engaged service of an `up`: what the daemon granted, where its traffic goes.
struct ServiceHandler {
  std::string service;
  std::string workload;
  std::string engagement_id;
  std::map<uint16_t, uint16_t> handler_ports;
  bool set = false;
};

// `telepresence compose up`: engages, writes the override, runs docker-compose up, sends each
// engagement to its service's container. What it made is recorded in the project's state file as
// it goes, so that `down` (also after a failure half-way) undoes all of it.
class ComposeUp {
 public:
  ComposeUp(const ComposeSetup& setup, const ComposeProject& project, ConnectedDaemon& daemon,
            const CliIo& io, CliServices& services)
      : setup_(setup), project_(project), daemon_(daemon), io_(io), services_(services) {
    state_.project = setup.project;
    state_.context_name = daemon.placement.context_name;
    state_.files = setup.files;
  }

  int Run(const std::vector<std::string>& words) {
    if (Status engaged = EngageAll(); !engaged.ok()) return Undo(engaged.error().message);
    const Argv argv = ComposeArgv(setup_, /*with_override=*/true, words);
    io_.out.flush();
    io_.err.flush();
    if (WantsDetached(words)) return RunDetached(argv);
    return RunForeground(argv);
  }

 private:
  Status EngageAll() {
    if (Status created = CreatePrivateDirectory(setup_.directory); !created.ok()) return created;
    Result<json> listed = daemon_.control->Call("GET", "/workloads", nullptr);
    Result<std::vector<WorkloadInfo>> workloads =
        listed.ok() ? ParseWorkloads(listed.value())
                    : Result<std::vector<WorkloadInfo>>(listed.error());
    if (!workloads.ok()) return workloads.error();
    if (Status known = RequireWorkloads(project_, workloads.value()); !known.ok()) return known;
    std::map<std::string, EngagedService> engaged;
    for (const ComposeService& service : project_.services) {
      if (!service.engagement) continue;
      Result<EngagedService> made =
          Engage(service, PortsOf(workloads.value(), service.engagement->workload));
      if (!made.ok()) return made.error();
      engaged[service.name] = made.value();
    }
    const json document = ComposeOverride(project_, daemon_.placement, engaged);
    return WritePrivateText(setup_.OverrideFile().string(), document.dump(2) + "\n");
  }

  Result<EngagedService> Engage(const ComposeService& service,
                                const std::vector<uint16_t>& workload_ports) {
    const EngageStart start =
        PlanEngageStart(EngageCommandFor(service), workload_ports, daemon_.placement);
    Result<json> answer = daemon_.control->Call("POST", "/engagements",
                                                api::EngageRequestToJson(start.engage_request));
    if (!answer.ok()) {
      return CliError{"cannot engage " + service.engagement->workload + " for the service " +
                      service.name + ": " + answer.error().message};
    }
    Result<EngagementGrant> grant = ParseEngagementGrant(answer.value());
    if (!grant.ok()) return grant.error();
    state_.engagements.push_back({.service = service.name,
                                  .workload = service.engagement->workload,
                                  .id = grant.value().id});
    handlers_.push_back({.service = service.name,
                         .workload = service.engagement->workload,
                         .engagement_id = grant.value().id,
                         .handler_ports = start.ports.handler_ports});
    if (Status saved = SaveState(); !saved.ok()) return saved.error();
    EngagedService engaged{.engagement_id = grant.value().id,
                           .env_file = setup_.EnvFile(service.name).string()};
    if (Status written = WriteEnvFile(service.name, grant.value(), engaged.env_file);
        !written.ok()) {
      return written.error();
    }
    Result<std::vector<ComposeVolume>> volumes =
        PlanComposeVolumes(setup_.project, service, grant.value(), daemon_.placement);
    if (!volumes.ok()) return volumes.error();
    for (const ComposeVolume& volume : volumes.value()) {
      if (Status created = CreateVolume(volume); !created.ok()) return created.error();
    }
    engaged.volumes = volumes.value();
    io_.err << "Engaged " << service.engagement->workload << " ("
            << EngagementModeName(service.engagement->mode) << ", " << grant.value().id
            << ") for the service " << service.name << std::endl;
    return engaged;
  }

  Status WriteEnvFile(const std::string& service, const EngagementGrant& grant,
                      const std::string& path) {
    std::vector<std::string> skipped;
    const std::string text = EnvFileText(grant.env, &skipped);
    for (const std::string& name : skipped) {
      io_.err << "telepresence compose: the variable " << name << " of " << service
              << "'s workload cannot be in an env file (a newline, NUL or '='); left out"
              << std::endl;
    }
    return WritePrivateText(path, text);
  }

  Status CreateVolume(const ComposeVolume& volume) {
    // A leftover of the same name (an engine stopped under an earlier run) would be handed out
    // again by dockerd without asking the driver: it goes first.
    (void)services_.docker.Remove(DockerResource::kVolume, {volume.spec.name});
    if (Status created = services_.docker.CreateVolume(volume.spec); !created.ok()) {
      return CliError{"cannot create the volume " + volume.spec.name + " for " + volume.mount_path +
                      ": " + created.error().message +
                      "; check that the Docker plugin telemount:latest is enabled, or give the "
                      "mount policy local in x-tele"};
    }
    state_.engagements.back().volumes.push_back(volume.spec.name);
    return SaveState();
  }

  Status SaveState() {
    return WritePrivateText(setup_.StateFile().string(), ComposeStateToJson(state_).dump(2) + "\n");
  }

  // Says why, ends what was made, and fails.
  int Undo(const std::string& why) {
    io_.err << "telepresence compose: " << why << "; undoing what was made" << std::endl;
    CleanupReport report(io_);
    EndEngagements(state_, io_, services_, report);
    RemoveProjectFiles(setup_, services_, report);
    return kExitFailure;
  }

  // docker-compose up -d, then every handler set (within kHandlerAddressDeadline).
  int RunDetached(const Argv& argv) {
    Result<ExitCode> exit_code = services_.docker.RunAttached(argv);
    if (!exit_code.ok()) return Undo(exit_code.error().message);
    if (exit_code.value() != 0) {
      (void)services_.docker.RunAttached(ComposeArgv(setup_, true, {"down"}));
      Undo("docker-compose up failed (exit code " + std::to_string(exit_code.value()) + ")");
      return exit_code.value();
    }
    const SteadyTime deadline = services_.clock.Now() + kHandlerAddressDeadline;
    while (!AllSet()) {
      if (Status set = TrySetHandlers(); !set.ok()) {
        return Fail(io_, kCommand, set.error().message + "; telepresence compose down ends it all");
      }
      if (AllSet()) break;
      if (services_.clock.Now() >= deadline) {
        return Fail(io_, kCommand,
                    "the engaged services' containers got no address on " +
                        daemon_.placement.network +
                        " within 30 s; see telepresence compose ps, "
                        "and end it all with telepresence compose down");
      }
      services_.clock.SleepFor(kHandlerPollInterval);
    }
    io_.err << "The engagements stay until telepresence compose down (or telepresence quit)"
            << std::endl;
    return kExitOk;
  }

  // docker-compose up in the foreground; handlers set as their containers come; the engagements
  // end with it (Ctrl-C reaches docker-compose too, which stops the containers; a stop request
  // to this command alone stops them with docker-compose stop).
  int RunForeground(const Argv& argv) {
    const std::unique_ptr<StopSource> stop =
        services_.stop_source ? services_.stop_source() : std::make_unique<StopSignals>();
    Result<std::unique_ptr<ForegroundRun>> run =
        services_.docker.StartForeground(argv, *stop, ChildStreams::kInherited);
    if (!run.ok()) return Undo(run.error().message);
    ExitCode exit_code = 0;
    while (true) {
      const ForegroundRun::Outcome outcome = run.value()->Wait(kForegroundWaitSlice);
      if (outcome.event == ForegroundRun::Event::kExited) {
        exit_code = outcome.exit_code;
        break;
      }
      if (outcome.event == ForegroundRun::Event::kInterrupted) {
        StopContainers();
        continue;
      }
      if (!AllSet()) {
        if (Status set = TrySetHandlers(); !set.ok()) {
          io_.err << "telepresence compose: " << set.error().message << std::endl;
        }
      }
    }
    EndEngagementsOnly();
    io_.err << "docker-compose ended, and the engagements with it; telepresence compose down "
               "removes the containers and volumes"
            << std::endl;
    return exit_code;
  }

  // A stop request (SIGINT, SIGTERM, SIGHUP) to this command alone: docker-compose stop ends the
  // foreground docker-compose up (a Ctrl-C in the terminal reaches both; then this is a no-op).
  void StopContainers() {
    if (stopping_) return;
    stopping_ = true;
    io_.err << "telepresence compose: interrupted; stopping the project's containers" << std::endl;
    (void)services_.docker.RunAttached(ComposeArgv(setup_, /*with_override=*/true, {"stop"}));
  }

  void EndEngagementsOnly() {
    for (const ServiceHandler& handler : handlers_) {
      (void)daemon_.control->Call("DELETE", "/engagements/" + handler.engagement_id, nullptr);
    }
  }

  bool AllSet() const {
    return std::all_of(handlers_.begin(), handlers_.end(),
                       [](const ServiceHandler& handler) { return handler.set; });
  }

  // One look: each handler whose container has its address on tp-<ctx> is sent the traffic.
  // Error: the daemon refused one.
  Status TrySetHandlers() {
    Result<std::optional<DockerNetwork>> network =
        services_.docker.InspectNetwork(daemon_.placement.network);
    if (!network.ok() || !network.value()) return Ok{};
    for (ServiceHandler& handler : handlers_) {
      if (handler.set) continue;
      const std::string label = std::string(kEngagementLabel) + "=" + handler.engagement_id;
      Result<std::vector<std::string>> containers =
          services_.docker.ListLabelled(DockerResource::kContainer, label);
      if (!containers.ok() || containers.value().empty()) continue;
      const std::optional<std::string> address =
          ContainerAddressIn(*network.value(), containers.value().front());
      if (!address) continue;
      Result<json> set =
          daemon_.control->Call("POST", "/engagements/" + handler.engagement_id + "/handler",
                                api::HandlerBodyToJson({*address, handler.handler_ports}));
      if (!set.ok()) {
        return CliError{"cannot send " + handler.workload + "'s traffic to the service " +
                        handler.service + ": " + set.error().message};
      }
      handler.set = true;
      io_.err << "Engaged: the service " << handler.service << " (" << containers.value().front()
              << ", " << *address << ") gets the engagement " << handler.engagement_id << " of "
              << handler.workload << std::endl;
    }
    return Ok{};
  }

  const ComposeSetup& setup_;
  const ComposeProject& project_;
  ConnectedDaemon& daemon_;
  const CliIo& io_;
  CliServices& services_;
  ComposeState state_;
  std::vector<ServiceHandler> handlers_;
  bool stopping_ = false;
};

int RunUp(const ComposeCommand& command, const ComposeSetup& setup, const CliIo& io,
          CliServices& services) {
  Result<ComposeProject> project = ReadProject(setup.files);
  if (!project.ok()) return Fail(io, kCommand, project.error().message);
  if (fs::exists(setup.StateFile())) {
    return Fail(io, kCommand,
                "the project " + setup.project + " is up already (" + setup.StateFile().string() +
                    "); run telepresence compose down first");
  }
  const std::string context_name = ContextNameOrDefault(
      command.context_name ? command.context_name : project.value().context_name);
  Result<ConnectedDaemon> daemon = FindConnectedDaemon(context_name, services);
  if (!daemon.ok()) return Fail(io, kCommand, daemon.error().message);
  if (daemon.value().placement.on_host) {
    return Fail(io, kCommand,
                "compose runs its services on the Teleroute network of a daemon container; the "
                "context " +
                    context_name +
                    " is connected without --docker (its daemon runs on "
                    "this host): run telepresence quit, then telepresence connect --docker");
  }
  return ComposeUp(setup, project.value(), daemon.value(), io, services).Run(command.compose_args);
}

int RunDown(const ComposeSetup& setup, const std::vector<std::string>& words, const CliIo& io,
            CliServices& services) {
  Result<std::optional<ComposeState>> state = LoadState(setup);
  if (!state.ok()) return Fail(io, kCommand, state.error().message);
  // The engagements first, so that the workloads answer at once; the volumes once docker-compose
  // has removed the containers that use them.
  CleanupReport report(io);
  EndEngagements(state.value(), io, services, report);
  io.out.flush();
  io.err.flush();
  Result<ExitCode> exit_code =
      services.docker.RunAttached(ComposeArgv(setup, fs::exists(setup.OverrideFile()), words));
  if (!exit_code.ok()) return Fail(io, kCommand, exit_code.error().message);
  RemoveProjectFiles(setup, services, report);
  if (exit_code.value() != 0) return exit_code.value();
  return report.clean() ? kExitOk : kExitFailure;
}

int RunPassThrough(const ComposeSetup& setup, const std::vector<std::string>& words,
                   const CliIo& io, CliServices& services) {
  io.out.flush();
  io.err.flush();
  Result<ExitCode> exit_code =
      services.docker.RunAttached(ComposeArgv(setup, fs::exists(setup.OverrideFile()), words));
  if (!exit_code.ok()) return Fail(io, kCommand, exit_code.error().message);
  return exit_code.value();
}

// Takes one project down as `compose down` would, from its state alone.
bool TakeDown(const fs::path& directory, const ComposeState& state, const CliIo& io,
              CliServices& services) {
  const ComposeSetup setup{.files = state.files, .project = state.project, .directory = directory};
  io.err << "Taking down the compose project " << state.project << std::endl;
  CleanupReport report(io);
  EndEngagements(state, io, services, report);
  io.out.flush();
  io.err.flush();
  Result<ExitCode> exit_code =
      services.docker.RunAttached(ComposeArgv(setup, fs::exists(setup.OverrideFile()), {"down"}));
  if (!exit_code.ok() || exit_code.value() != 0) {
    report.Problem("docker-compose down failed for the project " + state.project);
  }
  RemoveProjectFiles(setup, services, report);
  return report.clean();
}

}  // namespace

bool TakeDownComposeProjects(const std::string& context_name, const CliIo& io,
                             CliServices& services) {
  Result<fs::path> contexts = ContextsDirectory(io.environment);
  if (!contexts.ok()) return true;
  const fs::path projects = ComposeStateDirectory(contexts.value(), "-").parent_path();
  std::error_code error;
  bool clean = true;
  for (const fs::directory_entry& entry : fs::directory_iterator(projects, error)) {
    std::ifstream in(entry.path() / "state.json");
    if (!in) continue;
    Result<ComposeState> state =
        ComposeStateFromJson(json::parse(in, nullptr, /*allow_exceptions=*/false),
                             (entry.path() / "state.json").string());
    if (!state.ok() || state.value().context_name != context_name) continue;
    clean = TakeDown(entry.path(), state.value(), io, services) && clean;
  }
  return clean;
}

int RunCompose(const ComposeCommand& command, const CliIo& io, CliServices& services) {
  Result<ComposeSetup> setup = SetUp(command, io);
  if (!setup.ok()) return Fail(io, kCommand, setup.error().message);
  const std::string& subcommand = command.compose_args.front();
  if (subcommand == "up") return RunUp(command, setup.value(), io, services);
  if (subcommand == "down") return RunDown(setup.value(), command.compose_args, io, services);
  return RunPassThrough(setup.value(), command.compose_args, io, services);
}

}  // namespace tp::cli
