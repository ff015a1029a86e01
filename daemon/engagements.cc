#include "daemon/engagements.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "common/secret.h"
#include "daemon/captured_tcp_relay.h"
#include "daemon/sftp_forward.h"
#include "daemon/tunnel_client.h"
#include "net/tcp_socket.h"

namespace tp::daemon {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

ControlReply Error(int status, const std::string& sentence) {
  return {status, {{"error", sentence}}};
}

// The sentence in a failed Reply's body, or a fallback naming the code.
std::string PeerSentence(const tunnel::CallResult& result) {
  const json body = json::parse(result.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    return body["error"].get<std::string>();
  }
  return "the traffic-manager refused (" + std::string(std::strerror(result.error)) + ")";
}

// A tunnel source for a forward: the engagement's own tunnel while it lives.
SftpForward::TunnelSource TunnelOf(std::weak_ptr<tunnel::TunnelConnection> weak) {
  return [weak] {
    std::shared_ptr<tunnel::TunnelConnection> tunnel = weak.lock();
    return tunnel && !tunnel->Dead() ? tunnel : nullptr;
  };
}

}  // namespace

Engagements::Engagements(EngagementsOptions options, TunnelSource tunnel)
    : options_(std::move(options)), tunnel_(std::move(tunnel)), relays_(options_.max_relays) {}

Engagements::~Engagements() { Shutdown(); }

void Engagements::Attach(ControlCallbacks& callbacks) {
  callbacks.workloads = [this] { return ListWorkloads(); };
  callbacks.engage = [this](const json& body) { return Engage(body); };
  callbacks.set_handler = [this](const std::string& id, const json& body) {
    return SetHandler(id, body);
  };
  callbacks.engagements = [this] { return List(); };
  callbacks.leave = [this](const std::string& id) { return Leave(id); };
}

ControlReply Engagements::Ask(const std::shared_ptr<tunnel::TunnelConnection>& tunnel,
                              const json& request) {
  const tunnel::CallResult result =
      CallManager(tunnel, request.dump(), Clock::now() + options_.call_timeout);
  if (result.error == ENOTCONN || result.error == ECONNRESET) {
    return Error(503, kNotConnectedError);
  }
  if (result.error == ETIMEDOUT) {
    return Error(502, "the traffic-manager did not answer within " +
                          std::to_string(options_.call_timeout.count()) + " ms");
  }
  if (result.error != 0) return Error(502, PeerSentence(result));
  json body = json::parse(result.body, nullptr, false);
  if (!body.is_object()) return Error(502, "the traffic-manager's answer is not a JSON object");
  return {200, std::move(body)};
}

void Engagements::LeaveQuietly(const std::shared_ptr<tunnel::TunnelConnection>& tunnel,
                               const std::string& id) {
  const ControlReply reply = Ask(tunnel, {{"op", "leave"}, {"id", id}});
  if (reply.status != 200) {
    spdlog::warn("engagement {}: leaving failed: {}", id, reply.body["error"].get<std::string>());
  }
}

void Engagements::DropDead() {
  for (const Engagement& engagement : table_.RemoveDead()) {
    spdlog::info("engagement {} ended with its tunnel", engagement.id);
  }
}

ControlReply Engagements::ListWorkloads() { return Ask(tunnel_(), {{"op", "list"}}); }

ControlReply Engagements::Engage(const json& body) {
  DropDead();
  std::string error;
  const std::optional<api::EngageRequest> request = api::EngageRequestFromJson(body, error);
  if (!request) return Error(400, error);
  // Where the volumes' SFTP connections come from (the telemount plugin, on the host): only
  // there. Optional for older clients, which then leave the forward open to any peer.
  std::optional<Ipv4Address> sftp_client;
  if (!request->sftp_client.empty()) sftp_client = ParseIpv4Address(request->sftp_client);
  const std::shared_ptr<tunnel::TunnelConnection> tunnel = tunnel_();
  ControlReply answer = Ask(tunnel, ManagerEngageRequest(*request));
  if (answer.status != 200) return answer;
  std::optional<Engagement> engagement = EngagementFromAnswer(answer.body, error);
  if (!engagement) {
    if (answer.body.contains("id") && answer.body["id"].is_string()) {
      LeaveQuietly(tunnel, answer.body["id"].get<std::string>());
    }
    return Error(502, error);
  }
  // The engagement's own SFTP credential: the telemount plugin shows it (the CLI gives it as a
  // volume option) before the forward opens anything to the agent.
  std::optional<std::string> client_token = NewSecretToken(error);
  if (!client_token) {
    LeaveQuietly(tunnel, engagement->id);
    return Error(500, "cannot make the engagement's SFTP token: " + error);
  }
  SftpForwardOptions forward_options;
  forward_options.client_token = *client_token;
  forward_options.agent_token = engagement->agent_sftp_token;
  forward_options.listen_host = options_.sftp_listen_host;
  forward_options.target_host = engagement->agent_address;
  forward_options.target_port = engagement->agent_sftp_port;
  forward_options.open_timeout = options_.open_timeout;
  forward_options.allowed_peer = sftp_client;
  std::shared_ptr<SftpForward> forward =
      SftpForward::Start(std::move(forward_options), TunnelOf(tunnel), error);
  if (!forward) {
    LeaveQuietly(tunnel, engagement->id);
    return Error(500, error);
  }
  engagement->sftp_forward_port = forward->Port();
  engagement->sftp_forward = forward;
  engagement->tunnel = tunnel;
  json reply = engagement->answer;
  reply["sftp_port"] = forward->Port();
  reply["sftp_token"] = *client_token;
  // The workload's environment (its secrets) goes to the caller once and is not kept.
  engagement->answer.erase("env");
  const std::string id = engagement->id;
  if (!table_.Add(std::move(*engagement))) {
    return Error(502, "the traffic-manager named a new engagement " + id + " twice");
  }
  spdlog::info("engagement {}: {} {}, ports {}, SFTP forward on port {}", id,
               api::EngagementModeName(request->mode), request->workload, reply["ports"].dump(),
               forward->Port());
  return {200, std::move(reply)};
}

ControlReply Engagements::SetHandler(const std::string& id, const json& body) {
  DropDead();
  std::string error;
  std::optional<Handler> handler = api::HandlerBodyFromJson(body, error);
  if (!handler) return Error(400, error);
  using Result = EngagementTable::SetHandlerResult;
  switch (table_.SetHandler(id, *handler, error)) {
    case Result::kSet:
      break;
    case Result::kUnknownId:
      return Error(404, error);
    case Result::kHasHandler:
      return Error(409, error);
    case Result::kPortNotEngaged:
      return Error(400, error);
  }
  const std::optional<Engagement> engagement = table_.Find(id);
  ControlReply activated =
      Ask(engagement ? engagement->tunnel.lock() : nullptr, {{"op", "activate"}, {"id", id}});
  if (activated.status != 200) {
    table_.ClearHandler(id);
    return activated;
  }
  spdlog::info("engagement {}: handler {}, active", id, handler->address);
  return {};
}

ControlReply Engagements::List() {
  DropDead();
  json list = json::array();
  for (const Engagement& engagement : table_.All()) list.push_back(engagement.ToJson());
  return {200, {{"engagements", std::move(list)}}};
}

ControlReply Engagements::Leave(const std::string& id) {
  DropDead();
  std::optional<Engagement> engagement = table_.Remove(id);
  if (!engagement) return Error(404, "no engagement " + id + " in this daemon");
  ControlReply left = Ask(engagement->tunnel.lock(), {{"op", "leave"}, {"id", id}});
  engagement.reset();  // closes its SFTP forward
  spdlog::info("engagement {} left", id);
  // Without a tunnel the manager has ended it already.
  if (left.status == 503) return {};
  return left.status == 200 ? ControlReply{} : left;
}

void Engagements::Shutdown() {
  stop_.Trigger();
  std::vector<Engagement> engagements = table_.RemoveAll();
  const auto deadline = Clock::now() + options_.leave_timeout;
  for (const Engagement& engagement : engagements) {
    const tunnel::CallResult result = CallManager(
        engagement.tunnel.lock(), json{{"op", "leave"}, {"id", engagement.id}}.dump(), deadline);
    if (result.error != 0) {
      spdlog::warn("engagement {}: not left at the traffic-manager on the way out", engagement.id);
    }
  }
  engagements.clear();  // closes the forwards
  relays_.JoinAll();
}

void Engagements::OnOpenTcp(std::unique_ptr<tunnel::TunnelStream> stream,
                            const tunnel::OpenTcp& request) {
  if (stop_.Triggered()) return stream->Refuse(ECONNREFUSED, "the daemon is stopping");
  HandlerTarget target = table_.Lookup(request.host, request.port);
  if (!target.refusal.empty()) {
    spdlog::info("{} port {}: refused: {}", request.host, request.port, target.refusal);
    return stream->Refuse(ECONNREFUSED, target.refusal);
  }
  std::shared_ptr<tunnel::TunnelStream> owned(std::move(stream));
  const bool started = relays_.Spawn([this, owned, target, request] {
    RelayToHandler(*owned, target, request.host, request.port);
  });
  if (!started) {
    owned->Refuse(ECONNREFUSED, "the daemon relays " + std::to_string(options_.max_relays) +
                                    " connections already");
  }
}

void Engagements::RelayToHandler(tunnel::TunnelStream& stream, const HandlerTarget& target,
                                 const std::string& host, uint16_t port) {
  const std::string handler = target.address + ":" + std::to_string(target.port);
  DialResult dial = DialTcp(target.address, target.port, Clock::now() + options_.dial_timeout);
  if (!dial.socket.Valid()) {
    const std::string reason = "cannot reach the handler at " + handler + ": " + dial.message;
    spdlog::warn("{} port {}: {}", host, port, reason);
    return stream.Refuse(ECONNREFUSED, reason);
  }
  stream.Accept();
  spdlog::debug("{} port {} -> handler {}", host, port, handler);
  if (RelayCapturedTcp(dial.socket.Get(), stream, stop_, &relays_) == RelayEnd::kReset) {
    ResetAndClose(std::move(dial.socket));
  }
}

}  // namespace tp::daemon
