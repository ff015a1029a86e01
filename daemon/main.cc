// telepresence-daemon: keeps the tunnel to the traffic-manager up, captures the traffic of its
// network namespace to the cluster's subnets into the tunnel, serves DNS (cluster names through
// the tunnel) and the control API for the CLI, through which it engages workloads (relaying
// their traffic to local handlers, their volumes through SFTP forwards). See --help.
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "common/atomic_file.h"
#include "common/ipv4.h"
#include "common/logging.h"
#include "common/resolv_conf.h"
#include "common/shutdown_signal.h"
#include "daemon/cluster_capture.h"
#include "daemon/cluster_resolv_conf.h"
#include "daemon/control_api.h"
#include "daemon/dns_server.h"
#include "daemon/engagements.h"
#include "daemon/host_resolv_conf.h"
#include "daemon/resolv_conf_keeper.h"
#include "daemon/tunnel_client.h"
#include "net/host_port.h"
#include "sync/mutex.h"

namespace {

using namespace tp;
using namespace tp::daemon;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr std::chrono::milliseconds kConnectedPoll{200};

constexpr char kUsage[] =
    "Usage: telepresence-daemon --manager HOST:PORT --secret-file FILE [options]\n"
    "\n"
    "Keeps a tunnel to the traffic-manager up (reconnecting by itself), carries the TCP and UDP\n"
    "traffic of its network namespace to the cluster's subnets through it (nftables TPROXY;\n"
    "needs NET_ADMIN), serves DNS with the cluster's names, and answers the CLI on the control\n"
    "API (status, engagements of workloads: their traffic to local handlers, their volumes\n"
    "through SFTP forwards on 0.0.0.0).\n"
    "\n"
    "Options:\n"
    "  --manager HOST:PORT    the traffic-manager's tunnel address (required)\n"
    "  --secret-file FILE     file holding the shared secret (required)\n"
    "  --control ADDR:PORT    control API address (default 0.0.0.0:8787; port 0 picks one)\n"
    "  --dns ADDR:PORT        DNS server address, numeric (default 0.0.0.0:53)\n"
    "  --resolv-conf FILE     nameservers for non-cluster names (default /etc/resolv.conf)\n"
    "  --write-resolv-conf    once DNS serves, rewrite that file (in place) to use it, with the\n"
    "                         cluster's search domains; needs --dns on port 53\n"
    "  --resolv-conf-backup FILE  (a daemon on a host) keep the resolv.conf's text in FILE while\n"
    "                         it is rewritten, add the host's own search domains after the\n"
    "                         cluster's, and put the text back on stop; a FILE left by a daemon\n"
    "                         that died is put back first\n"
    "  --undo                 put back what a daemon with these options that died left (the\n"
    "                         resolv.conf from --resolv-conf-backup, the capture), then exit\n"
    "                         (--manager and --secret-file are not needed then)\n"
    "  --control-port-file FILE  write the control API's port there once it listens\n"
    "  --sftp-listen ADDR     where engagements' SFTP forwards listen (default 0.0.0.0)\n"
    "  --capture-port PORT    where captured traffic lands (default 15001)\n"
    "  --no-capture           do not capture traffic (no NET_ADMIN needed)\n"
    "  --name NAME            client name shown to the manager (default telepresence-daemon)\n"
    "  --help                 this text\n"
    "\n"
    "Environment:\n"
    "  TP_CONTROL_TOKEN       the token that the control API's POST and DELETE routes need\n"
    "                         (Authorization: Bearer); without it they are open to anyone who\n"
    "                         reaches the port. telepresence connect sets it.\n"
    "\n"
    "SIGTERM, SIGINT or POST /quit on the control API stop it (exit 0).\n";

struct DaemonOptions {
  HostPort manager;
  std::string secret_file;
  HostPort control{"0.0.0.0", 8787};
  HostPort dns{"0.0.0.0", 53};
  std::string resolv_conf = "/etc/resolv.conf";
  bool write_resolv_conf = false;
  std::string resolv_conf_backup;  // "": the file is not put back (a container's)
  bool undo = false;
  std::string control_port_file;
  std::string sftp_listen = "0.0.0.0";
  std::string name = "telepresence-daemon";
  bool capture = true;
  uint16_t capture_port = 15001;
};

constexpr uint16_t kDnsPort = 53;
// The resolv.conf is checked at least this often, besides on every change.
constexpr std::chrono::seconds kResolvRecheck{2};

struct ParsedArguments {
  std::optional<DaemonOptions> options;  // set when the daemon should run
  bool help = false;
  std::string error;  // what is wrong with the command line
};

// What is wrong with a complete set of options; "" when nothing.
std::string CheckOptions(const DaemonOptions& options, bool have_manager) {
  if (!options.undo && (!have_manager || options.secret_file.empty())) {
    return "--manager and --secret-file are required";
  }
  if (options.write_resolv_conf && options.dns.port != kDnsPort) {
    return "--write-resolv-conf needs the DNS server on port 53 (--dns ADDR:53)";
  }
  if (!options.resolv_conf_backup.empty() && !options.write_resolv_conf && !options.undo) {
    return "--resolv-conf-backup goes with --write-resolv-conf (or --undo)";
  }
  return "";
}

ParsedArguments ParseArguments(int argc, char** argv) {
  ParsedArguments parsed;
  DaemonOptions options;
  bool have_manager = false;
  for (int index = 1; index < argc; ++index) {
    const std::string flag = argv[index];
    if (flag == "--help" || flag == "-h") {
      parsed.help = true;
      return parsed;
    }
    if (flag == "--no-capture") {
      options.capture = false;
      continue;
    }
    if (flag == "--write-resolv-conf") {
      options.write_resolv_conf = true;
      continue;
    }
    if (flag == "--undo") {
      options.undo = true;
      continue;
    }
    if (index + 1 >= argc) {
      parsed.error = flag.starts_with("--") ? flag + " needs a value" : "unexpected " + flag;
      return parsed;
    }
    const std::string value = argv[++index];
    if (flag == "--manager" || flag == "--control" || flag == "--dns") {
      const auto address = ParseHostPort(value);
      if (!address || (flag == "--manager" && address->port == 0)) {
        parsed.error = flag + " wants HOST:PORT, got \"" + value + "\"";
        return parsed;
      }
      (flag == "--manager"   ? options.manager
       : flag == "--control" ? options.control
                             : options.dns) = *address;
      have_manager |= flag == "--manager";
    } else if (flag == "--secret-file") {
      options.secret_file = value;
    } else if (flag == "--resolv-conf") {
      options.resolv_conf = value;
    } else if (flag == "--resolv-conf-backup") {
      options.resolv_conf_backup = value;
    } else if (flag == "--control-port-file") {
      options.control_port_file = value;
    } else if (flag == "--sftp-listen") {
      if (!ParseIpv4Address(value)) {
        parsed.error = "--sftp-listen wants a numeric IPv4 address, got \"" + value + "\"";
        return parsed;
      }
      options.sftp_listen = value;
    } else if (flag == "--name") {
      options.name = value;
    } else if (flag == "--capture-port") {
      const std::optional<uint16_t> port = ParseServicePort(value);
      if (!port) {
        parsed.error = "--capture-port wants a port 1-65535, got \"" + value + "\"";
        return parsed;
      }
      options.capture_port = *port;
    } else {
      parsed.error = "unknown option " + flag;
      return parsed;
    }
  }
  parsed.error = CheckOptions(options, have_manager);
  if (!parsed.error.empty()) return parsed;
  parsed.options = std::move(options);
  return parsed;
}

// The file's contents without trailing white space; nullopt when unreadable or empty.
std::optional<std::string> ReadSecret(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::stringstream contents;
  contents << file.rdbuf();
  std::string secret = contents.str();
  while (!secret.empty() && std::isspace(static_cast<unsigned char>(secret.back()))) {
    secret.pop_back();
  }
  if (secret.empty()) return std::nullopt;
  return secret;
}

// The DNS server, started once the first Welcome brings the search domains.
class DnsStarter {
 public:
  DnsStarter(const DaemonOptions& options, TunnelClient& client)
      : options_(options), client_(client), thread_([this] { StartWhenConnected(); }) {}
  ~DnsStarter() {
    stopping_ = true;
    thread_.join();
    MutexLock lock(mutex_);
    if (server_) server_->Stop();
  }
  // "ip:port" and the search domains once serving; "" before.
  std::pair<std::string, std::vector<std::string>> Serving() const {
    MutexLock lock(mutex_);
    return {address_, search_domains_};
  }
  bool Failed() const { return failed_; }

 private:
  void StartWhenConnected() {
    while (!stopping_) {
      const auto welcome = client_.WaitUntilConnected(Clock::now() + kConnectedPoll);
      if (welcome) return Start(*welcome);
    }
  }
  void Start(const tp::tunnel::Welcome& welcome) {
    DnsServerOptions dns_options;
    dns_options.listen_address = options_.dns.host;
    dns_options.listen_port = options_.dns.port;
    dns_options.search_domains = welcome.search_domains;
    if (!welcome.cluster_domain.empty()) dns_options.cluster_domain = welcome.cluster_domain;
    dns_options.resolv_conf = options_.resolv_conf;
    std::string error;
    std::unique_ptr<DnsServer> server = DnsServer::Start(dns_options, client_.Resolver(), error);
    if (!server) {
      spdlog::error("cannot start the DNS server: {}", error);
      failed_ = true;
      tp::ShutdownSignal::Trigger();
      return;
    }
    const std::string address = HostPortText({options_.dns.host, server->Port()});
    spdlog::info("DNS server on {}, search domains: {}", address,
                 fmt::join(welcome.search_domains, " "));
    if (options_.write_resolv_conf) {
      std::optional<std::string> text = options_.resolv_conf_backup.empty()
                                            ? WriteResolvConf(welcome, dns_options.ndots)
                                            : WriteHostResolvConf(welcome, dns_options.ndots);
      if (text) {
        resolv_conf_keeper_ = std::make_unique<ResolvConfKeeper>(options_.resolv_conf,
                                                                 std::move(*text), kResolvRecheck);
      }
    }
    MutexLock lock(mutex_);
    server_ = std::move(server);
    address_ = address;
    search_domains_ = welcome.search_domains;
  }

  ClusterResolvConf ResolvConfFor(const tp::tunnel::Welcome& welcome, int ndots) const {
    ClusterResolvConf config;
    const std::string& host = options_.dns.host;
    config.nameserver = host == "0.0.0.0" || host == "::" ? "127.0.0.1" : host;
    config.search_domains = welcome.search_domains;
    config.ndots = ndots;
    config.upstream = UpstreamNameserverTexts(options_.resolv_conf);
    return config;
  }

  // A host's resolv.conf: pointed at our server until the daemon stops, the host's own search
  // domains after the cluster's. Returns the text written; nullopt when it could not be.
  std::optional<std::string> WriteHostResolvConf(const tp::tunnel::Welcome& welcome, int ndots) {
    const auto make_text = [&](const std::string& original) {
      ClusterResolvConf config = ResolvConfFor(welcome, ndots);  // the file holds `original`
      for (std::string& domain : SearchDomainsInResolvConfText(original)) {
        if (std::ranges::find(config.search_domains, domain) == config.search_domains.end()) {
          config.search_domains.push_back(std::move(domain));
        }
      }
      return ClusterResolvConfText(config);
    };
    std::string error;
    host_resolv_conf_ =
        HostResolvConf::Apply(options_.resolv_conf, options_.resolv_conf_backup, make_text, error);
    if (!host_resolv_conf_) {
      spdlog::error("cannot point {} at the DNS server: {}", options_.resolv_conf, error);
      return std::nullopt;
    }
    spdlog::info(
        "{} now names {} as its nameserver (its own text is kept in {} until the daemon "
        "stops)",
        options_.resolv_conf, options_.dns.host, options_.resolv_conf_backup);
    return host_resolv_conf_->Text();
  }

  // Points the resolv.conf at our server (listening on port 53), keeping its upstream servers.
  // Returns the text written; nullopt when it could not be.
  std::optional<std::string> WriteResolvConf(const tp::tunnel::Welcome& welcome, int ndots) const {
    const ClusterResolvConf config = ResolvConfFor(welcome, ndots);
    std::string error;
    std::string text = ClusterResolvConfText(config);
    if (!WriteFileInPlace(options_.resolv_conf, text, error)) {
      spdlog::error("cannot point {} at the DNS server: {}", options_.resolv_conf, error);
      return std::nullopt;
    }
    spdlog::info("{} now names {} as its nameserver", options_.resolv_conf, config.nameserver);
    return text;
  }

  const DaemonOptions& options_;
  TunnelClient& client_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  mutable Mutex mutex_;
  std::unique_ptr<DnsServer> server_ GUARDED_BY(mutex_);
  std::string address_ GUARDED_BY(mutex_);
  std::vector<std::string> search_domains_ GUARDED_BY(mutex_);
  // Set once, by thread_; the keeper stops before the host's text is put back.
  std::unique_ptr<HostResolvConf> host_resolv_conf_;
  std::unique_ptr<ResolvConfKeeper> resolv_conf_keeper_;
  std::thread thread_;
};

bool WritePortFile(const std::string& path, uint16_t port) {
  try {
    WriteFileAtomically(path, std::to_string(port) + "\n");
    return true;
  } catch (const std::runtime_error& failure) {
    spdlog::error("cannot write the control port to {}: {}", path, failure.what());
    return false;
  }
}

// --undo: what a daemon with these options that died left on its host goes.
int UndoLeftovers(const DaemonOptions& options) {
  std::string error;
  bool ok = true;
  if (!options.resolv_conf_backup.empty() &&
      !HostResolvConf::Undo(options.resolv_conf, options.resolv_conf_backup, error)) {
    spdlog::error("{}", error);
    ok = false;
  }
  if (options.capture) {
    TrafficCaptureOptions capture_options;
    capture_options.port = options.capture_port;
    if (!TrafficCapture::Install(capture_options, {}, error)) {  // replaces the leftovers
      spdlog::error("cannot remove a capture left behind: {}", error);
      ok = false;
    }
  }
  return ok ? 0 : kExitFailure;
}

api::DaemonStatus CollectStatus(const TunnelClient& client, const DnsStarter& dns,
                                const ClusterCapture* capture) {
  const TunnelClientStatus tunnel = client.Status();
  api::DaemonStatus status;
  status.connected = tunnel.connected;
  status.manager = tunnel.manager;
  if (tunnel.welcome) status.subnets = tunnel.welcome->subnets;
  std::tie(status.dns_address, status.dns_search) = dns.Serving();
  status.error = tunnel.last_error;
  status.reconnects = tunnel.reconnect_count;
  if (capture != nullptr) status.capture = capture->Status();
  return status;
}

int RunDaemon(const DaemonOptions& options, const std::string& secret) {
  tp::ShutdownSignal shutdown;  // before any thread starts
  TunnelClientOptions client_options;
  client_options.manager_host = options.manager.host;
  client_options.manager_port = options.manager.port;
  client_options.secret = secret;
  client_options.client_name = options.name;
  TunnelClient client(client_options);
  DnsStarter dns(options, client);
  std::atomic<bool> capture_failed{false};
  std::unique_ptr<ClusterCapture> capture;
  if (options.capture) {
    ClusterCaptureOptions capture_options;
    capture_options.proxy.port = options.capture_port;
    capture_options.on_failure = [&capture_failed](const std::string&) {
      capture_failed = true;
      tp::ShutdownSignal::Trigger();
    };
    capture = std::make_unique<ClusterCapture>(client, std::move(capture_options));
  }
  Engagements engagements({.sftp_listen_host = options.sftp_listen},
                          [&client] { return client.Current(); });
  client.SetOpenTcpHandler([&engagements](std::unique_ptr<tp::tunnel::TunnelStream> stream,
                                          const tp::tunnel::OpenTcp& request) {
    engagements.OnOpenTcp(std::move(stream), request);
  });
  ControlCallbacks callbacks;
  callbacks.status = [&] { return CollectStatus(client, dns, capture.get()); };
  callbacks.quit = [] { tp::ShutdownSignal::Trigger(); };
  engagements.Attach(callbacks);
  const char* token_variable = std::getenv("TP_CONTROL_TOKEN");
  const std::string control_token = token_variable != nullptr ? token_variable : "";
  if (control_token.empty()) {
    spdlog::warn("TP_CONTROL_TOKEN is not set: the control API's POST and DELETE routes are open");
  }
  std::string error;
  const auto control = ControlApi::Start(options.control.host, options.control.port, control_token,
                                         callbacks, error);
  if (!control) {
    spdlog::error("{}", error);
    client.SetOpenTcpHandler(nullptr);
    return kExitFailure;
  }
  if (!options.control_port_file.empty() &&
      !WritePortFile(options.control_port_file, control->Port())) {
    control->Stop();
    client.SetOpenTcpHandler(nullptr);
    return kExitFailure;
  }
  spdlog::info("control API on {}, traffic-manager {}",
               HostPortText({options.control.host, control->Port()}),
               HostPortText(options.manager));
  const int signal = shutdown.Wait();
  spdlog::info("stopping (signal {})", signal);
  control->Stop();
  client.SetOpenTcpHandler(nullptr);
  engagements.Shutdown();  // leaves them while the tunnel is still up
  capture.reset();         // the capture goes before the tunnel it feeds
  return dns.Failed() || capture_failed ? kExitFailure : 0;
}

}  // namespace

int main(int argc, char** argv) {
  const ParsedArguments parsed = ParseArguments(argc, argv);
  if (parsed.help) {
    std::cout << kUsage;
    return 0;
  }
  if (!parsed.options) {
    std::cerr << "telepresence-daemon: " << parsed.error << "\n"
              << "Run telepresence-daemon --help for the options.\n";
    return kExitUsage;
  }
  if (parsed.options->undo) {
    tp::InitLogging("telepresence-daemon");
    return UndoLeftovers(*parsed.options);
  }
  const std::optional<std::string> secret = ReadSecret(parsed.options->secret_file);
  if (!secret) {
    std::cerr << "telepresence-daemon: cannot read a secret from " << parsed.options->secret_file
              << "; write the traffic-manager's secret into it.\n";
    return kExitFailure;
  }
  tp::InitLogging("telepresence-daemon");
  return RunDaemon(*parsed.options, *secret);
}
