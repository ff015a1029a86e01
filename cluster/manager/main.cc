// traffic-manager: the cluster end of the tunnel. See --help.
#include <unistd.h>

#include <iostream>
#include <optional>
#include <thread>

#include "cluster/manager/dns_forwarder.h"
#include "cluster/manager/interface_subnets.h"
#include "cluster/manager/manager_options.h"
#include "cluster/manager/traffic_manager.h"
#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

namespace {

using tp::manager::ManagerConfig;
using tp::manager::ManagerOptions;

int Fail(const std::string& message) {
  std::cerr << "traffic-manager: " << message << "\n";
  return 1;
}

// Turns the options into the manager's configuration; "" or what is wrong.
std::string BuildConfig(const ManagerOptions& options, ManagerConfig& config) {
  std::string error;
  config.listen = options.listen;
  config.secret = tp::manager::ReadSecretFile(options.secret_file, error);
  if (!error.empty()) return error;
  if (!options.agent_secret_file.empty()) {
    config.agent_secret = tp::manager::ReadSecretFile(options.agent_secret_file, error);
    if (!error.empty()) return error;
    if (config.agent_secret == config.secret) {
      return "the agents' secret (--agent-secret-file) must differ from the daemons' "
             "(--secret-file): whoever holds a daemon's could pose as a workload's agent";
    }
  }
  config.welcome.subnets =
      options.subnets.empty() ? tp::manager::InterfaceSubnets() : options.subnets;
  config.welcome.search_domains = options.dns_search;
  config.welcome.cluster_domain = options.cluster_domain;
  if (options.dns_server.empty()) {
    config.dns_servers = tp::manager::DnsForwarder::ServersFromResolvConf("/etc/resolv.conf");
  } else if (auto server = tp::ParseEndpoint(options.dns_server, 53)) {
    config.dns_servers.push_back(*server);
  } else {
    return "--dns-server wants IP[:PORT], got " + options.dns_server;
  }
  return "";
}

// While alive, re-reads the interface subnets every few seconds and hands changes to the
// manager (only when --subnets was not given: then the subnets are the host's own).
class SubnetWatcher {
 public:
  explicit SubnetWatcher(tp::manager::TrafficManager& manager)
      : thread_([this, &manager] { Watch(manager); }) {}
  ~SubnetWatcher() {
    {
      tp::MutexLock lock(mutex_);
      stopping_ = true;
    }
    wake_.NotifyAll();
    thread_.join();
  }

 private:
  void Watch(tp::manager::TrafficManager& manager) {
    tp::MutexLock lock(mutex_);
    while (!wake_.WaitFor(mutex_, kInterval, [this]() REQUIRES(mutex_) { return stopping_; })) {
      lock.Unlock();
      manager.UpdateSubnets(tp::manager::InterfaceSubnets());
      lock.Lock();
    }
  }

  static constexpr std::chrono::seconds kInterval{5};
  tp::Mutex mutex_;
  tp::CondVar wake_;
  bool stopping_ GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = tp::manager::ParseManagerOptions({argv + 1, argv + argc});
  if (!parsed.options) {
    std::cerr << "traffic-manager: " << parsed.error << "\n\n" << tp::manager::ManagerUsage();
    return 2;
  }
  const ManagerOptions& options = *parsed.options;
  if (options.help) {
    std::cout << tp::manager::ManagerUsage();
    return 0;
  }
  tp::InitLogging("traffic-manager");
  tp::ShutdownSignal shutdown_signal;  // before any thread starts
  ManagerConfig config;
  if (const std::string problem = BuildConfig(options, config); !problem.empty()) {
    return Fail(problem);
  }
  std::string error;
  auto manager = tp::manager::TrafficManager::Start(config, error);
  if (!manager) return Fail(error);
  if (!options.port_file.empty() &&
      !tp::WritePortFile(options.port_file, manager->ListenPort(), error)) {
    return Fail(error);
  }
  std::string subnets;
  for (const auto& subnet : config.welcome.subnets)
    subnets += (subnets.empty() ? "" : ",") + subnet;
  std::cout << "listening on " << manager->ListenAddress() << " subnets " << subnets << std::endl;
  {
    std::optional<SubnetWatcher> watcher;
    if (options.subnets.empty()) watcher.emplace(*manager);
    const int signal_number = shutdown_signal.Wait();
    spdlog::info("signal {}: closing every tunnel", signal_number);
  }
  manager->Stop();
  if (!options.port_file.empty()) ::unlink(options.port_file.c_str());
  return 0;
}
