// SftpForward is the local end of an engagement's volumes: a TCP listener in the daemon (on
// 0.0.0.0:0 in production) whose every accepted connection is opened through the tunnel to the
// agent's SFTP address and port (OpenTcp, as captured traffic is) and relayed both ways
// (RelayCapturedTcp). When there is no tunnel or the open fails, the connection is reset at
// once and the reason logged. With a client_token, a connection must first send the SFTP
// preface for it (common/sftp_preface.h) or it is closed before anything is opened; with an
// agent_token, every stream to the agent starts with the preface for that token. Start() returns
// once the listener is bound; Stop() (or the
// destructor) closes it and returns once every relay has ended (within a quarter of a second,
// or the open_timeout of a connection still waiting for the tunnel's answer). Thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "common/ipv4.h"
#include "common/task_group.h"
#include "daemon/stop_event.h"
#include "net/unique_fd.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {

struct SftpForwardOptions {
  std::string listen_host = "0.0.0.0";  // numeric IPv4; the port is picked by the kernel
  // The only address a connection may come from (the host's address on Docker's bridge, from
  // which the telemount plugin connects); nullopt: any. A connection from elsewhere (another
  // container on the bridge or the Teleroute network) is reset before anything is relayed.
  std::optional<Ipv4Address> allowed_peer;
  // The token the telemount plugin shows for this engagement's volumes; "": no preface asked.
  std::string client_token{};
  // The token the agent's SFTP server asks for; "": no preface sent.
  std::string agent_token{};
  std::string target_host;   // the agent's address
  uint16_t target_port = 0;  // the agent's SFTP port
  std::chrono::milliseconds open_timeout{4000};
  size_t max_connections = 64;
};

class SftpForward {
 public:
  // The tunnel to open streams on; nullptr when there is none. Asked for each connection.
  using TunnelSource = std::function<std::shared_ptr<tunnel::TunnelConnection>()>;

  // nullptr with `error` set when it cannot listen.
  static std::unique_ptr<SftpForward> Start(SftpForwardOptions options, TunnelSource tunnel,
                                            std::string& error);
  ~SftpForward();
  SftpForward(const SftpForward&) = delete;
  SftpForward& operator=(const SftpForward&) = delete;

  uint16_t Port() const { return port_; }
  // Closes the listener, ends every relay, joins every thread. Idempotent.
  void Stop();

 private:
  SftpForward(SftpForwardOptions options, TunnelSource tunnel, UniqueFd listener, uint16_t port);
  void AcceptLoop();
  bool PeerAllowed(int client) const;
  void Serve(UniqueFd client);
  // Writes the agent's preface on `stream` within the open timeout.
  bool SendPreface(tunnel::TunnelStream& stream) const;

  const SftpForwardOptions options_;
  const TunnelSource tunnel_;
  UniqueFd listener_;
  const uint16_t port_;
  StopEvent stop_;
  TaskGroup relays_;
  std::thread acceptor_;
};

}  // namespace tp::daemon
