// traffic-agent: the sidecar of one workload (docs/engagements.md). See --help.
#include <sys/socket.h>
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <iostream>

#include "cluster/agent/agent_options.h"
#include "cluster/agent/manager_link.h"
#include "cluster/agent/port_forwarder.h"
#include "cluster/agent/sftp_server.h"
#include "common/logging.h"
#include "common/secret.h"
#include "common/shutdown_signal.h"
#include "net/interface_address.h"

namespace {

using tp::agent::AgentOptions;

int Fail(const std::string& message) {
  std::cerr << "traffic-agent: " << message << "\n";
  return 1;
}

// libtp_chroot.so next to this executable.
std::string DefaultChrootLibrary() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  if (error) return "";
  return (self.parent_path() / "libtp_chroot.so").string();
}

// The registration the agent sends, or nullopt with `error` set.
std::optional<tp::agent::Registration> BuildRegistration(const AgentOptions& options,
                                                         const std::string& address,
                                                         std::string& error) {
  tp::agent::Registration registration{
      options.workload, options.container,     address, options.ports, options.sftp_port, "", {},
      options.mounts,   options.mount_policies};
  if (options.app_env_file.empty()) return registration;
  const auto text = tp::agent::ReadTextFile(options.app_env_file, error);
  if (!text) return std::nullopt;
  auto env = tp::agent::ParseEnvText(*text, error);
  if (!env) {
    error = options.app_env_file + ": " + error;
    return std::nullopt;
  }
  registration.env = std::move(*env);
  return registration;
}

}  // namespace

int main(int argc, char** argv) {
  const auto parsed = tp::agent::ParseAgentOptions({argv + 1, argv + argc});
  if (!parsed.options) {
    std::cerr << "traffic-agent: " << parsed.error << "\n\n" << tp::agent::AgentUsage();
    return 2;
  }
  const AgentOptions& options = *parsed.options;
  if (options.help) {
    std::cout << tp::agent::AgentUsage();
    return 0;
  }
  tp::InitLogging("traffic-agent");
  tp::ShutdownSignal shutdown_signal;  // before any thread starts

  std::string error;
  const std::string secret = tp::agent::ReadSecretFile(options.secret_file, error);
  if (!error.empty()) return Fail(error);
  const std::optional<std::string> address = tp::FirstInterfaceAddress(AF_INET);
  if (!address) return Fail("no IPv4 address on a non-loopback interface");
  auto registration = BuildRegistration(options, *address, error);
  if (!registration) return Fail(error);

  const std::optional<std::string> sftp_token = tp::NewSecretToken(error);
  if (!sftp_token) return Fail("cannot make the SFTP token: " + error);
  registration->sftp_token = *sftp_token;

  tp::agent::SftpServerOptions sftp_options{
      *address, options.sftp_port, options.exports, options.sftp_server,
      options.chroot_library.empty() ? DefaultChrootLibrary() : options.chroot_library};
  sftp_options.token = *sftp_token;
  const auto sftp = tp::agent::SftpServer::Start(sftp_options, error);
  if (!sftp) return Fail(error);

  tp::agent::ManagerLink link(
      {options.manager_host, options.manager_port, secret, std::move(*registration)});
  tp::agent::PortForwarderOptions forward_options;
  forward_options.listen_address = *address;
  forward_options.listen_address6 = tp::FirstInterfaceAddress(AF_INET6).value_or("");
  forward_options.ports = options.ports;
  forward_options.app_address = options.app_address;
  tp::agent::RouteSource routes{[&link] { return link.CurrentEngagement(); },
                                [&link] { return link.Current(); }};
  const auto forwarder = tp::agent::PortForwarder::Start(forward_options, routes, error);
  if (!forwarder) return Fail(error);
  spdlog::info("traffic-agent for {}/{} on {}", options.workload, options.container, *address);

  shutdown_signal.Wait();
  spdlog::info("stopping");
  return 0;
}
