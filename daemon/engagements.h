// Engagements is the daemon's side of docs/engagements.md: it answers the CLI's engagement
// routes by asking the traffic-manager (list, engage, activate, leave) over the tunnel, keeps
// what it made in an EngagementTable, gives each engagement an SftpForward (a local port that
// reaches the agent's SFTP server through the tunnel), and serves the streams the manager opens
// for "engagement/<id>" by dialing the handler (off the tunnel's reader thread) and relaying.
// Errors follow the design: 400 for a bad request, 404 for an unknown id, 409 for a conflict,
// 502 with the manager's own sentence when it said no or did not answer, 503 when there is no
// tunnel. An engagement ends with the tunnel it was made on: such ones are dropped (their
// forwards closed) on the next request. Shutdown() (or the destructor) leaves every engagement
// (best effort, within leave_timeout in all), closes the forwards and joins every relay.
// Thread-safe.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/task_group.h"
#include "daemon/control_api.h"
#include "daemon/engagement_table.h"
#include "daemon/stop_event.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {

struct EngagementsOptions {
  std::string sftp_listen_host = "0.0.0.0";       // where SFTP forwards listen (port picked)
  std::chrono::milliseconds call_timeout{5000};   // each request to the manager
  std::chrono::milliseconds dial_timeout{3000};   // dialing a handler
  std::chrono::milliseconds leave_timeout{1000};  // leaving everything at Shutdown
  std::chrono::milliseconds open_timeout{4000};   // a forward's stream to the agent
  size_t max_relays = 512;                        // handler streams relayed at a time
};

class Engagements {
 public:
  // The live tunnel, or nullptr when there is none.
  using TunnelSource = std::function<std::shared_ptr<tunnel::TunnelConnection>()>;

  Engagements(EngagementsOptions options, TunnelSource tunnel);
  ~Engagements();
  Engagements(const Engagements&) = delete;
  Engagements& operator=(const Engagements&) = delete;

  // The control API routes (see ControlCallbacks).
  ControlReply ListWorkloads();
  ControlReply Engage(const nlohmann::json& body);
  ControlReply SetHandler(const std::string& id, const nlohmann::json& body);
  ControlReply List();
  ControlReply Leave(const std::string& id);
  // Points the engagement callbacks of `callbacks` at this object.
  void Attach(ControlCallbacks& callbacks);

  // For TunnelClient::SetOpenTcpHandler: a stream the manager opens for "engagement/<id>" and a
  // workload port. Returns at once; refuses (ECONNREFUSED, with the reason) when there is no
  // handler, the dial fails, or the daemon is stopping.
  void OnOpenTcp(std::unique_ptr<tunnel::TunnelStream> stream, const tunnel::OpenTcp& request);

  // Leaves every engagement, closes the forwards, ends and joins every relay. Idempotent.
  void Shutdown();

 private:
  // The manager's answer to `request` on `tunnel`: 200 and the body, or the error reply.
  ControlReply Ask(const std::shared_ptr<tunnel::TunnelConnection>& tunnel,
                   const nlohmann::json& request);
  // Leaves `id` at the manager without waiting for the reply to matter (a failed engage).
  void LeaveQuietly(const std::shared_ptr<tunnel::TunnelConnection>& tunnel, const std::string& id);
  void DropDead();
  void RelayToHandler(tunnel::TunnelStream& stream, const HandlerTarget& target,
                      const std::string& host, uint16_t port);

  const EngagementsOptions options_;
  const TunnelSource tunnel_;
  EngagementTable table_;
  StopEvent stop_;
  TaskGroup relays_;
};

}  // namespace tp::daemon
