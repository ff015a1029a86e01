// telepresence-daemon: keeps the tunnel to the traffic-manager up, serves DNS (cluster names
// through the tunnel) and the control API for the CLI. See --help.
#include <atomic>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "daemon/control_api.h"
#include "daemon/dns_server.h"
#include "daemon/host_port.h"
#include "daemon/tunnel_client.h"

namespace {

using namespace tp::daemon;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;
constexpr int kExitFailure = 1;
constexpr std::chrono::milliseconds kConnectedPoll{200};

constexpr char kUsage[] =
    "Usage: telepresence-daemon --manager HOST:PORT --secret-file FILE [options]\n"
    "\n"
    "Keeps a tunnel to the traffic-manager up (reconnecting by itself), serves DNS with the\n"
    "cluster's names through it, and answers the CLI on the control API.\n"
    "\n"
    "Options:\n"
    "  --manager HOST:PORT    the traffic-manager's tunnel address (required)\n"
    "  --secret-file FILE     file holding the shared secret (required)\n"
    "  --control ADDR:PORT    control API address (default 0.0.0.0:8787; port 0 picks one)\n"
    "  --dns ADDR:PORT        DNS server address, numeric (default 0.0.0.0:53)\n"
    "  --resolv-conf FILE     nameservers for non-cluster names (default /etc/resolv.conf)\n"
    "  --name NAME            client name shown to the manager (default telepresence-daemon)\n"
    "  --help                 this text\n"
    "\n"
    "SIGTERM, SIGINT or POST /quit on the control API stop it (exit 0).\n";

struct DaemonOptions {
  HostPort manager;
  std::string secret_file;
  HostPort control{"0.0.0.0", 8787};
  HostPort dns{"0.0.0.0", 53};
  std::string resolv_conf = "/etc/resolv.conf";
  std::string name = "telepresence-daemon";
};

struct ParsedArguments {
  std::optional<DaemonOptions> options;  // set when the daemon should run
  bool help = false;
  std::string error;  // what is wrong with the command line
};

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
    } else if (flag == "--name") {
      options.name = value;
    } else {
      parsed.error = "unknown option " + flag;
      return parsed;
    }
  }
  if (!have_manager || options.secret_file.empty()) {
    parsed.error = "--manager and --secret-file are required";
    return parsed;
  }
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
    std::lock_guard lock(mutex_);
    if (server_) server_->Stop();
  }
  // "ip:port" and the search domains once serving; "" before.
  std::pair<std::string, std::vector<std::string>> Serving() const {
    std::lock_guard lock(mutex_);
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
    std::lock_guard lock(mutex_);
    server_ = std::move(server);
    address_ = address;
    search_domains_ = welcome.search_domains;
  }

  const DaemonOptions& options_;
  TunnelClient& client_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  mutable std::mutex mutex_;
  std::unique_ptr<DnsServer> server_;        // guarded by mutex_
  std::string address_;                      // guarded by mutex_
  std::vector<std::string> search_domains_;  // guarded by mutex_
  std::thread thread_;
};

DaemonStatus CollectStatus(const TunnelClient& client, const DnsStarter& dns) {
  const TunnelClientStatus tunnel = client.Status();
  DaemonStatus status;
  status.connected = tunnel.connected;
  status.manager = tunnel.manager;
  if (tunnel.welcome) status.subnets = tunnel.welcome->subnets;
  std::tie(status.dns_address, status.dns_search) = dns.Serving();
  status.error = tunnel.last_error;
  status.reconnects = tunnel.reconnect_count;
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
  std::string error;
  const auto control = ControlApi::Start(
      options.control.host, options.control.port,
      {[&] { return CollectStatus(client, dns); }, [] { tp::ShutdownSignal::Trigger(); }}, error);
  if (!control) {
    spdlog::error("{}", error);
    return kExitFailure;
  }
  spdlog::info("control API on {}, traffic-manager {}",
               HostPortText({options.control.host, control->Port()}),
               HostPortText(options.manager));
  const int signal = shutdown.Wait();
  spdlog::info("stopping (signal {})", signal);
  control->Stop();
  return dns.Failed() ? kExitFailure : 0;
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
  const std::optional<std::string> secret = ReadSecret(parsed.options->secret_file);
  if (!secret) {
    std::cerr << "telepresence-daemon: cannot read a secret from " << parsed.options->secret_file
              << "; write the traffic-manager's secret into it.\n";
    return kExitFailure;
  }
  tp::InitLogging("telepresence-daemon");
  return RunDaemon(*parsed.options, *secret);
}
