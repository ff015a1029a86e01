// `telepresence connect [--docker]`: see its --help (command_help.cc) and the output formats in
// connect_wait.h. With --docker the daemon runs in a container; without, on this host
// (host_daemon.h).

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <system_error>

#include "cli/commands.h"
#include "cli/connect_wait.h"
#include "cli/connected_daemon.h"
#include "cli/context_resources.h"
#include "cli/docker_network.h"
#include "cli/host_interfaces.h"
#include "cli/host_mode.h"
#include "cli/log_tail.h"
#include "cli/plugins.h"
#include "cli/teleroute_network.h"
#include "cli/validation.h"
#include "common/secret.h"

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr std::string_view kCommand = "connect";
// How often the daemon's GET /status is asked while it connects (on loopback: about a
// millisecond each); whether its container stopped comes from Docker's events meanwhile.
constexpr milliseconds kPollInterval{20};
// A fresh random token for the daemon's control API.
Result<std::string> NewControlToken() {
  std::string error;
  std::optional<std::string> token = NewSecretToken(error);
  if (!token) return CliError{"cannot make the daemon's control token: " + error};
  return *token;
}

Result<Context> LoadConnectContext(const ConnectCommand& connect, const CliIo& io) {
  Result<fs::path> directory = ContextsDirectory(io.environment);
  if (!directory.ok()) return directory.error();
  Result<Context> context =
      LoadContext(ContextNameOrDefault(connect.context_name), directory.value());
  if (!context.ok()) return context.error();
  return WithManagerOverride(std::move(context).value(), connect.manager_override);
}

// The gateway of Docker's default bridge on this host (DefaultBridgeGateway); nullopt when there
// is no such network or it has no IPv4 address.
Result<std::optional<Ipv4Address>> DefaultBridgeGatewayOf(DockerApi& docker) {
  Result<std::optional<DockerNetwork>> bridge = docker.InspectNetwork("bridge");
  if (!bridge.ok()) return bridge.error();
  if (!bridge.value()) return std::optional<Ipv4Address>();
  return DefaultBridgeGateway(*bridge.value(), InterfaceIpv4Address);
}

// Where the daemon container reaches this host: the default bridge's gateway, for advice.
std::string BridgeGatewayHint(DockerApi& docker) {
  Result<std::optional<Ipv4Address>> gateway = DefaultBridgeGatewayOf(docker);
  if (!gateway.ok() || !gateway.value()) return "usually 172.17.0.1";
  return "here " + gateway.value()->ToString();
}

Status CheckManagerReachableFromContainers(const Context& context, DockerApi& docker) {
  if (!IsLoopbackHostPort(context.manager)) return Ok{};
  return CliError{
      "the traffic-manager address " + context.manager +
      " is on this host's loopback, which the daemon container cannot reach (inside it, that "
      "address is the container itself); publish the traffic-manager on the Docker bridge's "
      "gateway address (" +
      BridgeGatewayHint(docker) +
      ") and give that address with --manager HOST:PORT or as \"manager\" in " +
      context.source_file.string()};
}

// Docker would create a missing bind-mount source as a folder, and the daemon stops on an
// empty secret: both are better said here.
Status CheckSecretFile(const Context& context) {
  std::error_code error;
  bool is_file = fs::is_regular_file(context.secret_file, error);
  bool is_empty = is_file && fs::file_size(context.secret_file, error) == 0;
  if (is_file && !is_empty && !error) return Ok{};
  return CliError{"the secret file " + context.secret_file.string() + " (from " +
                  context.source_file.string() + ") is " +
                  (is_empty ? "empty" : "missing or not a file") +
                  "; write the traffic-manager's shared secret into it (make demo-cluster does for "
                  "the demo cluster)"};
}

// How to see what the daemon does: the same container, in the foreground.
std::string ForegroundHint(const docker::ContainerSpec& spec) {
  return "run it in the foreground: " +
         FormatArgvForDisplay(RunArgvForDisplay(spec, /*detached=*/false));
}

// The daemon's last words (Docker removes its container, and so its log, when it stops), then
// how to watch it.
std::string StoppedDaemonMessage(const std::string& container, const docker::ContainerSpec& spec,
                                 const std::vector<std::string>& last_lines) {
  std::string message = "the daemon container " + container + " stopped before it connected";
  if (last_lines.empty()) {
    message += " and left no log";
  } else {
    message += "; its last words:" + IndentedLines(last_lines) + "\n";
  }
  return message + "; to watch it, " + ForegroundHint(spec);
}

// Undoes a step of connect (runs `undo`) when connect fails after it, that is when destroyed
// without Keep(); says what was left behind when the undo fails.
class UndoUnlessKept {
 public:
  UndoUnlessKept(std::string what, std::function<Status()> undo, std::ostream& err)
      : what_(std::move(what)), undo_(std::move(undo)), err_(err) {}
  ~UndoUnlessKept() {
    if (kept_) return;
    Status undone = undo_();
    if (!undone.ok()) {
      err_ << "telepresence connect: could not remove " << what_ << ": " << undone.error().message
           << "; run telepresence quit\n";
    }
  }
  UndoUnlessKept(const UndoUnlessKept&) = delete;
  UndoUnlessKept& operator=(const UndoUnlessKept&) = delete;

  void Keep() { kept_ = true; }

 private:
  const std::string what_;
  const std::function<Status()> undo_;
  std::ostream& err_;
  bool kept_ = false;
};

// "Connecting to the traffic-manager at H:P ... connected", a dot per second in between.
class ProgressLine {
 public:
  ProgressLine(std::ostream& err, const std::string& text) : err_(err) {
    err_ << text << " ..." << std::flush;
  }
  void Update(milliseconds elapsed) {
    int due = DueProgressDots(elapsed, dots_);
    if (due == 0) return;
    err_ << std::string(static_cast<size_t>(due), '.') << std::flush;
    dots_ += due;
  }
  void Finish(std::string_view word) { err_ << " " << word << std::endl; }

 private:
  std::ostream& err_;
  int dots_ = 0;
};

std::string NetworkFailure(const std::string& what, const std::string& network,
                           const CliError& error) {
  return "cannot " + what + " the Teleroute network " + network + ": " + error.message +
         "; check that the Docker plugin " + std::string(kTeleroutePlugin) +
         " is enabled (docker plugin ls; make plugins reinstalls it), then run telepresence "
         "connect --docker again";
}

// Removes a network tp-<ctx> left over from an earlier run.
Status RemoveLeftoverNetwork(const std::string& network, const CliIo& io, DockerApi& docker) {
  Result<std::optional<DockerNetwork>> existing = docker.InspectNetwork(network);
  if (!existing.ok()) return existing.error();
  if (!existing.value()) return Ok{};
  io.err << "Removing the leftover network " << network << std::endl;
  Result<std::vector<std::string>> removed = RemoveTelerouteNetwork(docker, network);
  if (!removed.ok()) return removed.error();
  return Ok{};
}

// Creates tp-<ctx> for the connected daemon and attaches the daemon to it (teleroute_network.h).
// On failure nothing of the network is left.
Result<TelerouteNetworkInfo> SetUpTelerouteNetwork(const std::string& context_name,
                                                   const DaemonStatus& status,
                                                   const std::optional<Ipv4Prefix>& requested,
                                                   bool kernel_has_ipv6, const CliIo& io,
                                                   DockerApi& docker) {
  const std::string network = TelerouteNetworkName(context_name);
  if (Status removed = RemoveLeftoverNetwork(network, io, docker); !removed.ok()) {
    return removed.error();
  }
  Result<std::vector<DockerNetwork>> networks = docker.ListNetworks();
  if (!networks.ok()) return networks.error();
  Result<Ipv4Prefix> subnet =
      ChooseSubnet(requested, TakenSubnets(status.subnets, networks.value(), network));
  if (!subnet.ok()) return subnet.error();
  TelerouteNetworkSpec spec = PlanTelerouteNetwork(context_name, subnet.value(), status.subnets);
  if (kernel_has_ipv6) {
    spec.ipv6 =
        PlanIpv6Half(status.subnets, TakenIpv6Subnets(status.subnets, networks.value(), network));
  }
  Result<std::optional<DockerNetwork>> gateway_bridge =
      docker.InspectNetwork(std::string(kGatewayBridge));
  if (!gateway_bridge.ok()) return gateway_bridge.error();
  spec.gateway_bridge_existed = gateway_bridge.value().has_value();
  const std::string daemon6 = spec.ipv6 ? spec.ipv6->daemon.ToString() : "";
  io.err << "Creating the Teleroute network " << network << " (" << spec.subnet.ToString()
         << (spec.ipv6 ? " and " + spec.ipv6->subnet.ToString() : "") << ", daemon "
         << spec.daemon.ToString() << (spec.ipv6 ? " and " + daemon6 : "") << ")" << std::endl;
  if (Status created = docker.CreateNetwork(NetworkCreateSpec(spec)); !created.ok()) {
    return CliError{NetworkFailure("create", network, created.error())};
  }
  UndoUnlessKept guard(
      "the network " + network,
      [&]() -> Status {
        Result<std::vector<std::string>> removed = RemoveTelerouteNetwork(docker, network);
        if (!removed.ok()) return removed.error();
        return Ok{};
      },
      io.err);
  const std::string container = DaemonContainerName(context_name);
  if (Status attached =
          docker.ConnectToNetwork(network, container, spec.daemon.ToString(), daemon6);
      !attached.ok()) {
    return CliError{NetworkFailure("attach the daemon container " + container + " to", network,
                                   attached.error())};
  }
  guard.Keep();
  return TelerouteNetworkInfo{.name = network,
                              .subnet = spec.subnet.ToString(),
                              .daemon_address = spec.daemon.ToString(),
                              .subnet6 = spec.ipv6 ? spec.ipv6->subnet.ToString() : "",
                              .daemon_attached = true};
}

// The network of an already connected daemon: kept when the daemon is on it (and it has the
// requested subnet), else made afresh.
Result<TelerouteNetworkInfo> EnsureTelerouteNetwork(const std::string& context_name,
                                                    const DaemonStatus& status,
                                                    const std::optional<Ipv4Prefix>& requested,
                                                    bool kernel_has_ipv6, const CliIo& io,
                                                    DockerApi& docker) {
  Result<std::optional<TelerouteNetworkInfo>> existing = FindTelerouteNetwork(docker, context_name);
  if (!existing.ok()) return existing.error();
  const std::optional<TelerouteNetworkInfo>& network = existing.value();
  if (!network || !network->daemon_attached) {
    return SetUpTelerouteNetwork(context_name, status, requested, kernel_has_ipv6, io, docker);
  }
  if (requested && network->subnet != requested->ToString()) {
    return CliError{"the daemon of context " + context_name + " is already connected with the " +
                    "Teleroute network " + FormatTelerouteNetwork(*network) +
                    "; run telepresence quit first to use --docker-subnet " +
                    requested->ToString()};
  }
  return *network;
}

enum class ExistingDaemonState { kNone, kConnected, kStale };

struct ExistingDaemon {
  ExistingDaemonState state = ExistingDaemonState::kNone;
  DaemonStatus status{};
  std::string problem{};  // why a stale daemon is not usable
};

Result<ExistingDaemon> InspectExistingDaemon(CliServices& services, const std::string& container) {
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return state.error();
  if (!state.value()) return ExistingDaemon{};
  if (*state.value() != "running") {
    return ExistingDaemon{ExistingDaemonState::kStale, {}, "it is " + *state.value()};
  }
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) {
    return ExistingDaemon{ExistingDaemonState::kStale, {}, endpoint.error().message};
  }
  Result<DaemonStatus> status = FetchDaemonStatus(*services.daemon_control(endpoint.value()));
  if (!status.ok()) return ExistingDaemon{ExistingDaemonState::kStale, {}, status.error().message};
  if (!IsReady(status.value())) {
    std::string error = status.value().error;
    return ExistingDaemon{ExistingDaemonState::kStale, status.value(),
                          "it is not connected" + (error.empty() ? "" : " (" + error + ")")};
  }
  return ExistingDaemon{ExistingDaemonState::kConnected, status.value()};
}

// Returns the status of the context's daemon when it already runs connected to the same
// manager; removes a stale one (nullopt); fails for a daemon connected elsewhere.
Result<std::optional<DaemonStatus>> ReuseOrClearExistingDaemon(const Context& context,
                                                               const std::string& container,
                                                               const CliIo& io,
                                                               CliServices& services) {
  Result<ExistingDaemon> existing = InspectExistingDaemon(services, container);
  if (!existing.ok()) return existing.error();
  const ExistingDaemon& daemon = existing.value();
  if (daemon.state == ExistingDaemonState::kNone) return std::optional<DaemonStatus>();
  if (daemon.state == ExistingDaemonState::kConnected) {
    if (daemon.status.manager != context.manager) {
      return CliError{"the daemon of context " + context.name + " is connected to " +
                      daemon.status.manager + ", not to " + context.manager +
                      "; run telepresence quit first to connect elsewhere"};
    }
    return std::optional<DaemonStatus>(daemon.status);
  }
  io.err << "Removing the daemon container " << container << ": " << daemon.problem << std::endl;
  Result<ContextResources> resources = ListContextResources(services.docker, context.name);
  if (!resources.ok()) return resources.error();
  if (Status removed = RemoveContextResources(services.docker, resources.value()); !removed.ok()) {
    return removed.error();
  }
  return std::optional<DaemonStatus>();
}

// The daemon already runs connected: make sure its network is there too.
int KeepConnectedDaemon(const Context& context, const DaemonStatus& status,
                        const ConnectCommand& command, const CliIo& io, CliServices& services) {
  Result<TelerouteNetworkInfo> network = EnsureTelerouteNetwork(
      context.name, status, command.docker_subnet, services.kernel_has_ipv6, io, services.docker);
  if (!network.ok()) {
    return Fail(io, kCommand,
                network.error().message + " (the daemon container " +
                    DaemonContainerName(context.name) +
                    " keeps running; telepresence quit removes it)");
  }
  io.out << FormatTelerouteNetworkLine(FormatTelerouteNetwork(network.value()))
         << FormatAlreadyConnected(status.manager, context.name);
  return kExitOk;
}

struct WaitOutcome {
  ConnectStep step = ConnectStep::kWait;
  std::optional<DaemonStatus> last_status{};  // the last /status answer
  std::string last_problem{};                 // why the last /status got no answer
};

ConnectObservation Observe(DaemonControl& control, ContainerWatch& watch, std::string& problem) {
  ConnectObservation observation;
  Result<DaemonStatus> status = FetchDaemonStatus(control);
  if (status.ok()) {
    observation.status = status.value();
    return observation;
  }
  problem = status.error().message;
  // Not answering yet, or gone? Docker's events say (no event: still running; the timeout
  // decides).
  observation.daemon_running = !watch.Stopped();
  return observation;
}

WaitOutcome WaitUntilConnected(DaemonControl& control, ContainerWatch& watch, milliseconds timeout,
                               ProgressLine& progress, CliServices& services) {
  const SteadyTime start = services.clock.Now();
  WaitOutcome outcome;
  while (true) {
    ConnectObservation observation = Observe(control, watch, outcome.last_problem);
    if (observation.status) outcome.last_status = observation.status;
    auto elapsed = std::chrono::duration_cast<milliseconds>(services.clock.Now() - start);
    outcome.step = NextConnectStep(observation, elapsed, timeout);
    progress.Update(elapsed);
    if (outcome.step != ConnectStep::kWait) return outcome;
    services.clock.SleepFor(kPollInterval);
  }
}

// The traffic-manager refused the daemon: most likely the secret.
std::string RefusedMessage(const WaitOutcome& outcome, const Context& context) {
  return "the traffic-manager at " + context.manager + " refused the daemon (" +
         outcome.last_status->error + "); check that the secret file " +
         context.secret_file.string() + " holds the traffic-manager's secret";
}

std::string WaitFailureMessage(const WaitOutcome& outcome, const Context& context,
                               const std::string& container, const docker::ContainerSpec& spec,
                               milliseconds timeout, ContainerWatch& watch) {
  const std::string manager = "the traffic-manager at " + context.manager;
  const std::string waited = FormatSeconds(timeout);
  if (outcome.step == ConnectStep::kRefused) return RefusedMessage(outcome, context);
  if (outcome.step == ConnectStep::kDaemonStopped) {
    return StoppedDaemonMessage(container, spec, watch.LastLogLines());
  }
  if (!outcome.last_status) {
    return "the daemon did not answer on its control API within " + waited + " (" +
           outcome.last_problem + "); to see what it does, " + ForegroundHint(spec);
  }
  std::string error = outcome.last_status->error;
  return "no connection to " + manager + " within " + waited + " (" +
         (error.empty() ? "the daemon reported no error" : "last error: " + error) +
         "); check that the traffic-manager runs and is published on that address, and that "
         "containers on Docker's default bridge network can reach it; or give another address "
         "with --manager HOST:PORT, or more time with --timeout SECONDS";
}

int StartAndWait(const Context& context, const docker::ContainerSpec& spec,
                 const ConnectCommand& command, SteadyTime command_start, const CliIo& io,
                 CliServices& services) {
  const std::string container = DaemonContainerName(context.name);
  Result<std::string> id = services.docker.RunDetached(spec);
  if (!id.ok()) {
    return Fail(io, kCommand, "cannot start the daemon container: " + id.error().message);
  }
  UndoUnlessKept started(
      "the daemon container " + container,
      [&] { return services.docker.Remove(DockerResource::kContainer, {container}); }, io.err);
  Result<std::unique_ptr<ContainerWatch>> watch = services.docker.WatchContainer(id.value());
  if (!watch.ok()) return Fail(io, kCommand, watch.error().message);
  Result<DaemonEndpoint> endpoint = services.docker.ControlEndpoint(container);
  if (!endpoint.ok()) {
    Result<std::optional<std::string>> state = services.docker.ContainerState(container);
    bool stopped = state.ok() && state.value() != "running";
    return Fail(io, kCommand,
                stopped ? StoppedDaemonMessage(container, spec, watch.value()->LastLogLines())
                        : "cannot find the daemon's control port: " + endpoint.error().message);
  }
  std::unique_ptr<DaemonControl> control = services.daemon_control(endpoint.value());
  ProgressLine progress(io.err, "Connecting to the traffic-manager at " + context.manager);
  const milliseconds timeout = command.timeout;
  WaitOutcome outcome = WaitUntilConnected(*control, *watch.value(), timeout, progress, services);
  if (outcome.step != ConnectStep::kReady) {
    progress.Finish("failed");
    return Fail(io, kCommand,
                WaitFailureMessage(outcome, context, container, spec, timeout, *watch.value()));
  }
  progress.Finish("connected");
  Result<TelerouteNetworkInfo> network =
      SetUpTelerouteNetwork(context.name, *outcome.last_status, command.docker_subnet,
                            services.kernel_has_ipv6, io, services.docker);
  if (!network.ok()) return Fail(io, kCommand, network.error().message);
  started.Keep();
  auto took = std::chrono::duration_cast<milliseconds>(services.clock.Now() - command_start);
  io.out << FormatConnected(*outcome.last_status, context.name, container, endpoint.value().port,
                            FormatTelerouteNetwork(network.value()), took);
  return kExitOk;
}

// A host daemon's process, seen as ContainerWatch sees a container (for WaitUntilConnected).
class HostDaemonWatch : public ContainerWatch {
 public:
  HostDaemonWatch(HostDaemons& daemons, HostDaemonRecord record, std::string context_name)
      : daemons_(daemons), record_(std::move(record)), context_name_(std::move(context_name)) {}
  bool Stopped() override { return !daemons_.Running(record_); }
  std::vector<std::string> LastLogLines() override { return daemons_.LastLogLines(context_name_); }

 private:
  HostDaemons& daemons_;
  const HostDaemonRecord record_;
  const std::string context_name_;
};

constexpr char kHostNeedsRoot[] =
    "without --docker the daemon runs on this host, where it captures the cluster's subnets "
    "(nftables), points /etc/resolv.conf at its DNS server and listens on port 53: that needs "
    "root; run it with sudo, or run telepresence connect --docker to keep the daemon in a "
    "container";

// Where the host daemon's DNS server listens: the address of Docker's default bridge on this
// host, which the host and the containers on that bridge both reach.
Result<std::string> HostDnsAddress(DockerApi& docker) {
  Result<std::optional<Ipv4Address>> found = DefaultBridgeGatewayOf(docker);
  if (!found.ok()) return found.error();
  const std::optional<Ipv4Address>& gateway = found.value();
  if (!gateway) {
    return CliError{
        "Docker's default bridge network has no IPv4 address on this host; the "
        "daemon's DNS server listens there so that containers reach it"};
  }
  return gateway->ToString();
}

std::string HostWaitFailure(const WaitOutcome& outcome, const Context& context,
                            milliseconds timeout, ContainerWatch& watch) {
  const std::string manager = "the traffic-manager at " + context.manager;
  if (outcome.step == ConnectStep::kRefused) return RefusedMessage(outcome, context);
  if (outcome.step == ConnectStep::kDaemonStopped) {
    return "the daemon stopped; its last lines:" + IndentedLines(watch.LastLogLines());
  }
  const std::string error = outcome.last_status ? outcome.last_status->error : outcome.last_problem;
  return "no connection to " + manager + " within " + FormatSeconds(timeout) + " (" +
         (error.empty() ? "no error reported" : "last error: " + error) +
         "); check that the traffic-manager runs and that this host reaches it; the daemon's last "
         "lines:" +
         IndentedLines(watch.LastLogLines());
}

// Refuses when the context is connected with --docker; says "Already connected" (returns
// true) when its host daemon runs and answers; cleans up after one that died.
Result<bool> CheckHostDaemonSlot(const Context& context, const CliIo& io, CliServices& services) {
  const std::string container = DaemonContainerName(context.name);
  Result<std::optional<std::string>> state = services.docker.ContainerState(container);
  if (!state.ok()) return state.error();
  if (state.value()) {
    return CliError{"the context " + context.name + " is connected with --docker (the daemon " +
                    "container " + container + " exists); run telepresence quit" +
                    ContextFlagText(context.name) + " first"};
  }
  Result<std::optional<HostDaemonConnection>> running = FindHostDaemon(context.name, services);
  if (!running.ok()) return running.error();
  if (running.value()) {
    Result<DaemonStatus> status = FetchDaemonStatus(*running.value()->control);
    if (!status.ok()) {
      return CliError{"the daemon on this host (pid " +
                      std::to_string(running.value()->record.pid) + ") does not answer (" +
                      status.error().message + "); run telepresence quit, then connect again"};
    }
    io.out << FormatAlreadyConnected(status.value().manager, context.name);
    return true;
  }
  if (services.host_daemons->HasStaleRecord(context.name)) {
    io.err << "An earlier daemon on this host stopped without cleaning up; putting back what it "
              "left"
           << std::endl;
    if (Status cleaned = services.host_daemons->CleanUp(context.name); !cleaned.ok()) {
      return cleaned.error();
    }
  }
  return false;
}

// Starts the host daemon once the plugins are there (the volumes need telemount).
Result<HostDaemonRecord> StartHostDaemon(const ConnectCommand& command, const Context& context,
                                         const CliIo& io, CliServices& services) {
  Result<std::string> dns = HostDnsAddress(services.docker);
  if (!dns.ok()) return dns.error();
  Result<PluginPolicy> plugin_policy =
      PluginPolicyFor(command.plugin_registry, command.upgrade_plugins, io.environment);
  if (!plugin_policy.ok()) return plugin_policy.error();
  Status plugins =
      EnsurePlugins(services.docker, services.plugin_installer, plugin_policy.value(), io.err);
  if (!plugins.ok()) return plugins.error();
  Result<std::string> token = NewControlToken();
  if (!token.ok()) return token.error();
  Result<HostDaemonRecord> record =
      services.host_daemons->Start({.context_name = context.name,
                                    .manager = context.manager,
                                    .secret_file = context.secret_file,
                                    .dns_address = dns.value(),
                                    .token = token.value()},
                                   command.timeout);
  if (!record.ok()) {
    (void)services.host_daemons->CleanUp(context.name);
    return CliError{"cannot start the daemon on this host: " + record.error().message};
  }
  return record;
}

std::string FormatHostConnected(const HostDaemonRecord& record, const DaemonStatus& status,
                                const std::string& context_name, milliseconds took) {
  return "Daemon: this host (pid " + std::to_string(record.pid) +
         ", control API on 127.0.0.1:" + std::to_string(record.control_port) +
         ")\nCluster subnets: " + JoinOrNone(status.subnets) + "\nDNS: " + status.dns_address +
         " is this host's nameserver now (search domains " + JoinOrNone(status.dns_search) +
         "; containers: --dns-search tel2-search)\nConnected to " + status.manager + " (context " +
         context_name + ") in " + FormatSeconds(took) + "\n";
}

// connect without --docker: the daemon as a process of this host, stopped again (and the host
// put back) when it does not connect.
int RunHostConnect(const ConnectCommand& command, const Context& context, SteadyTime command_start,
                   const CliIo& io, CliServices& services) {
  if (services.host_daemons == nullptr) {
    return Fail(io, kCommand,
                "this telepresence cannot run the daemon on the host; run telepresence connect "
                "--docker");
  }
  if (Status secret = CheckSecretFile(context); !secret.ok()) {
    return Fail(io, kCommand, secret.error().message);
  }
  Result<bool> connected = CheckHostDaemonSlot(context, io, services);
  if (!connected.ok()) return Fail(io, kCommand, connected.error().message);
  if (connected.value()) return kExitOk;
  Result<HostDaemonRecord> record = StartHostDaemon(command, context, io, services);
  if (!record.ok()) return Fail(io, kCommand, record.error().message);
  UndoUnlessKept started(
      "the daemon on this host", [&] { return QuitHostDaemon(context.name, io, services); },
      io.err);
  std::unique_ptr<DaemonControl> control =
      services.daemon_control({.port = record.value().control_port, .token = record.value().token});
  HostDaemonWatch watch(*services.host_daemons, record.value(), context.name);
  ProgressLine progress(io.err, "Connecting to the traffic-manager at " + context.manager);
  WaitOutcome outcome = WaitUntilConnected(*control, watch, command.timeout, progress, services);
  if (outcome.step != ConnectStep::kReady) {
    progress.Finish("failed");
    return Fail(io, kCommand, HostWaitFailure(outcome, context, command.timeout, watch));
  }
  progress.Finish("connected");
  started.Keep();
  const auto took = std::chrono::duration_cast<milliseconds>(services.clock.Now() - command_start);
  io.out << FormatHostConnected(record.value(), *outcome.last_status, context.name, took);
  return kExitOk;
}

}  // namespace

int RunConnect(const ConnectCommand& command, const CliIo& io, CliServices& services) {
  const SteadyTime command_start = services.clock.Now();
  if (command.on_host && ::geteuid() != 0) return Fail(io, kCommand, kHostNeedsRoot);
  Result<Context> loaded = LoadConnectContext(command, io);
  if (!loaded.ok()) return Fail(io, kCommand, loaded.error().message);
  const Context& context = loaded.value();
  if (command.on_host) return RunHostConnect(command, context, command_start, io, services);
  if (HasHostDaemon(context.name, services)) {
    return Fail(io, kCommand,
                "the context " + context.name +
                    " is connected without --docker "
                    "(its daemon runs on this host); run telepresence quit" +
                    ContextFlagText(context.name) + " first");
  }
  for (Status check :
       {CheckManagerReachableFromContainers(context, services.docker), CheckSecretFile(context)}) {
    if (!check.ok()) return Fail(io, kCommand, check.error().message);
  }
  Result<std::string> token = NewControlToken();
  if (!token.ok()) return Fail(io, kCommand, token.error().message);
  Result<docker::ContainerSpec> spec = DaemonContainerSpec({.context_name = context.name,
                                                            .manager_address = context.manager,
                                                            .secret_file = context.secret_file,
                                                            .enable_ipv6 = services.kernel_has_ipv6,
                                                            .control_token = token.value()});
  if (!spec.ok()) return Fail(io, kCommand, spec.error().message);
  Result<std::optional<DaemonStatus>> reused =
      ReuseOrClearExistingDaemon(context, DaemonContainerName(context.name), io, services);
  if (!reused.ok()) return Fail(io, kCommand, reused.error().message);
  Result<PluginPolicy> plugin_policy =
      PluginPolicyFor(command.plugin_registry, command.upgrade_plugins, io.environment);
  if (!plugin_policy.ok()) return Fail(io, kCommand, plugin_policy.error().message);
  Status plugins =
      EnsurePlugins(services.docker, services.plugin_installer, plugin_policy.value(), io.err);
  if (!plugins.ok()) return Fail(io, kCommand, plugins.error().message);
  if (reused.value()) return KeepConnectedDaemon(context, *reused.value(), command, io, services);
  Status images = EnsureImages(services.docker, services.image_builder,
                               {std::string(kDaemonImage), std::string(kCurlImage)}, io.err);
  if (!images.ok()) return Fail(io, kCommand, images.error().message);
  return StartAndWait(context, spec.value(), command, command_start, io, services);
}

}  // namespace tp::cli
