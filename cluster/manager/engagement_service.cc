#include "cluster/manager/engagement_service.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "common/companion_task.h"
#include "common/secret.h"
#include "sync/mutex.h"

namespace tp::manager {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// How long an answer may wait for room in the tunnel's queue.
constexpr std::chrono::milliseconds kReplyTimeout{1000};
// Each relay step waits at most this long before checking whether the relay is over.
constexpr std::chrono::milliseconds kRelaySlice{250};
constexpr size_t kRelayBufferBytes = 64 * 1024;
constexpr std::chrono::milliseconds kExpirePeriod{200};
constexpr std::string_view kEngagementHostPrefix = "engagement/";

// A request that cannot be served as sent: answered EINVAL with its sentence.
class BadRequest : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string Dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ErrorBody(const std::string& sentence) { return Dump(json{{"error", sentence}}); }

const json& Field(const json& request, const char* name) {
  static const json kNull;
  const auto found = request.find(name);
  return found == request.end() ? kNull : *found;
}

std::string StringField(const json& request, const char* name, bool required) {
  const json& value = Field(request, name);
  if (value.is_null() && !required) return "";
  if (!value.is_string()) throw BadRequest(std::string("\"") + name + "\" must be a string");
  return value.get<std::string>();
}

std::vector<uint16_t> PortsField(const json& request, const char* name) {
  const json& value = Field(request, name);
  if (value.is_null()) return {};
  if (!value.is_array()) throw BadRequest(std::string("\"") + name + "\" must be a list of ports");
  std::vector<uint16_t> ports;
  for (const json& port : value) {
    if (!port.is_number_unsigned() || port.get<uint64_t>() == 0 || port.get<uint64_t>() > 65535) {
      throw BadRequest(std::string("\"") + name + "\" must hold ports from 1 to 65535");
    }
    ports.push_back(static_cast<uint16_t>(port.get<uint64_t>()));
  }
  return ports;
}

uint16_t PortField(const json& request, const char* name) {
  const json& value = Field(request, name);
  if (value.is_null()) return 0;
  if (!value.is_number_unsigned() || value.get<uint64_t>() > 65535) {
    throw BadRequest(std::string("\"") + name + "\" must be a port from 0 to 65535");
  }
  return static_cast<uint16_t>(value.get<uint64_t>());
}

AgentInfo ParseRegister(const json& request) {
  AgentInfo info;
  info.workload = StringField(request, "workload", true);
  info.container = StringField(request, "container", false);
  info.address = StringField(request, "address", true);
  info.ports = PortsField(request, "ports");
  info.sftp_port = PortField(request, "sftp_port");
  info.sftp_token = StringField(request, "sftp_token", false);
  if (!info.sftp_token.empty() && !IsSecretToken(info.sftp_token)) {
    throw BadRequest("\"sftp_token\" must be 32 lower-case hex digits");
  }
  const json& env = Field(request, "env");
  if (!env.is_null()) {
    if (!env.is_object()) throw BadRequest("\"env\" must be an object of strings");
    for (const auto& [key, value] : env.items()) {
      if (!value.is_string()) throw BadRequest("\"env\" must be an object of strings");
      info.env[key] = value.get<std::string>();
    }
  }
  const json& mounts = Field(request, "mounts");
  if (!mounts.is_null()) {
    if (!mounts.is_array()) throw BadRequest("\"mounts\" must be a list of paths");
    for (const json& mount : mounts) {
      if (!mount.is_string()) throw BadRequest("\"mounts\" must be a list of paths");
      info.mounts.push_back(mount.get<std::string>());
    }
  }
  const json& policies = Field(request, "mount_policies");
  if (!policies.is_null()) {
    std::string error;
    std::optional<api::MountPolicies> parsed = api::MountPoliciesFromJson(policies, error);
    if (!parsed) throw BadRequest(error);
    for (const auto& [path, policy] : *parsed) {
      if (std::find(info.mounts.begin(), info.mounts.end(), path) == info.mounts.end()) {
        throw BadRequest("\"mount_policies\" names " + path + ", which is not in \"mounts\"");
      }
    }
    info.mount_policies = std::move(*parsed);
  }
  return info;
}

json EngagementJson(const Engagement& engagement) {
  return {{"id", engagement.id},
          {"mode", api::EngagementModeName(engagement.mode)},
          {"ports", engagement.ports},
          {"name", engagement.name},
          {"active", engagement.active}};
}

json ListJson(const std::vector<WorkloadView>& views) {
  json workloads = json::array();
  for (const WorkloadView& view : views) {
    workloads.push_back(
        {{"workload", view.agent.workload},
         {"container", view.agent.container},
         {"address", view.agent.address},
         {"ports", view.agent.ports},
         {"mounts", view.agent.mounts},
         {"mount_policies", api::MountPoliciesToJson(view.agent.mount_policies)},
         {"engagement", view.engagement ? EngagementJson(*view.engagement) : json(nullptr)}});
  }
  return {{"workloads", std::move(workloads)}};
}

json EngagedJson(const EngageOutcome& outcome) {
  const AgentInfo& agent = outcome.agent;
  return {{"id", outcome.engagement.id},
          {"workload", agent.workload},
          {"container", agent.container},
          {"address", agent.address},
          {"ports", outcome.engagement.ports},
          {"sftp_port", agent.sftp_port},
          {"sftp_token", agent.sftp_token},
          {"env", agent.env},
          {"mounts", agent.mounts},
          {"mount_policies", api::MountPoliciesToJson(agent.mount_policies)}};
}

json WatchJson(const WatchState& state) {
  json engagement = nullptr;
  if (state.engagement) {
    engagement = {{"id", state.engagement->id},
                  {"mode", api::EngagementModeName(state.engagement->mode)},
                  {"ports", state.engagement->ports}};
  }
  return {{"version", state.version}, {"engagement", std::move(engagement)}};
}

// Waits for the daemon's answer to `handler` and gives it to the agent's `stream`: Accept, or
// a refusal (ECONNREFUSED, the daemon's reason), which fails both streams. True when accepted.
bool AnswerAgentStream(tunnel::TunnelStream& stream, tunnel::TunnelStream& handler,
                       tunnel::Deadline answer_deadline) {
  const tunnel::IoResult answer = handler.AwaitOpen(answer_deadline);
  if (answer.ok()) {
    stream.Accept();
    return true;
  }
  const std::string reason = handler.FailureReason();
  stream.Refuse(ECONNREFUSED,
                "the daemon refused: " + (reason.empty() ? std::strerror(answer.error) : reason));
  handler.Reset();  // a stream still unanswered at its deadline
  return false;
}

// Moves one direction of a relay on (from the tunnel's socket to the other tunnel's through a
// pipe, TunnelStream::ForwardTo) until its end (then half-closes the other stream) or a failure
// (then resets both, which ends the other direction too).
void Pump(tunnel::TunnelStream& from, tunnel::TunnelStream& to, std::atomic<bool>& failed) {
  std::vector<uint8_t> scratch(kRelayBufferBytes);
  while (!failed.load()) {
    const tunnel::IoResult moved = from.ForwardTo(to, scratch, Clock::now() + kRelaySlice);
    if (moved.error == ETIMEDOUT) continue;
    if (!moved.ok()) break;
    if (moved.bytes == 0) {
      to.CloseWrite();
      return;
    }
  }
  failed.store(true);
  from.Reset();
  to.Reset();
}

}  // namespace

void SessionLink::Attach(tunnel::TunnelConnection* connection) {
  WriterMutexLock lock(mutex_);
  connection_ = connection;
}

void SessionLink::Detach() {
  WriterMutexLock lock(mutex_);
  connection_ = nullptr;
}

bool SessionLink::SendReply(uint32_t request_id, tunnel::Reply reply, tunnel::Deadline deadline) {
  ReaderMutexLock lock(mutex_);
  return connection_ != nullptr && connection_->SendReply(request_id, std::move(reply), deadline);
}

std::unique_ptr<tunnel::TunnelStream> SessionLink::OpenTcpEarly(const std::string& host,
                                                                uint16_t port,
                                                                tunnel::Deadline answer_deadline) {
  ReaderMutexLock lock(mutex_);
  if (connection_ == nullptr) return nullptr;
  return connection_->OpenTcpEarly(host, port, answer_deadline);
}

PeerKind PeerKindOf(const std::string& client_name) {
  return client_name.starts_with("agent/") ? PeerKind::kAgent : PeerKind::kDaemon;
}

EngagementService::EngagementService(EngagementServiceConfig config)
    : config_(config), registry_(config.watch_timeout) {
  expirer_ = std::thread([this] { ExpireLoop(); });
}

EngagementService::~EngagementService() {
  {
    MutexLock lock(stop_mutex_);
    stopping_ = true;
  }
  stop_wakeup_.NotifyAll();
  expirer_.join();
}

void EngagementService::Attach(const Peer& peer) {
  MutexLock lock(links_mutex_);
  links_[peer.id] = peer.link;
}

void EngagementService::Detach(const Peer& peer) {
  {
    MutexLock lock(links_mutex_);
    links_.erase(peer.id);
  }
  if (peer.kind == PeerKind::kAgent) {
    registry_.UnregisterAgent(peer.id);
  } else {
    registry_.EndDaemonSession(peer.id);
  }
}

void EngagementService::OnRequest(const Peer& peer, uint32_t request_id,
                                  const tunnel::Request& request) {
  std::optional<Answer> answer;
  try {
    answer = Handle(peer, request_id, request.body);
  } catch (const BadRequest& error) {
    answer = Answer{EINVAL, ErrorBody(error.what())};
  } catch (const json::exception& error) {
    answer = Answer{EINVAL, ErrorBody(std::string("malformed request: ") + error.what())};
  }
  if (!answer) return;
  if (answer->error_code != 0) {
    spdlog::info("{}: request refused: {}", peer.name, answer->body);
  }
  peer.link->SendReply(request_id, {answer->error_code, std::move(answer->body)},
                       Clock::now() + kReplyTimeout);
}

std::optional<EngagementService::Answer> EngagementService::Handle(const Peer& peer,
                                                                   uint32_t request_id,
                                                                   const std::string& body) {
  const json request = json::parse(body, nullptr, false);
  if (request.is_discarded() || !request.is_object()) {
    throw BadRequest("malformed request: not a JSON object");
  }
  const std::string op = StringField(request, "op", true);
  const bool agent = peer.kind == PeerKind::kAgent;
  const bool agent_op = op == "register" || op == "watch";
  const bool daemon_op = op == "list" || op == "engage" || op == "activate" || op == "leave";
  if (!agent_op && !daemon_op) throw BadRequest("unknown op \"" + op + "\"");
  if (agent_op != agent) {
    return Answer{EPERM, ErrorBody("op \"" + op + "\" is for " +
                                   (agent ? "daemons" : "traffic-agents") + " only")};
  }
  auto refused_or_empty = [](const std::optional<Refusal>& refusal) {
    return refusal ? Answer{refusal->error_code, ErrorBody(refusal->sentence)} : Answer{0, "{}"};
  };
  if (op == "register") {
    return refused_or_empty(registry_.RegisterAgent(peer.id, ParseRegister(request)));
  }
  if (op == "watch") {
    const json& version = Field(request, "version");
    if (!version.is_null() && !version.is_number_unsigned()) {
      throw BadRequest("\"version\" must be a number");
    }
    return HandleWatch(peer, request_id, version.is_null() ? 0 : version.get<uint64_t>());
  }
  if (op == "list") return Answer{0, Dump(ListJson(registry_.List()))};
  if (op == "engage") {
    EngageRequest engage{StringField(request, "workload", true), StringField(request, "mode", true),
                         PortsField(request, "ports"), StringField(request, "name", false)};
    const EngageOutcome outcome = registry_.Engage(peer.id, engage);
    if (outcome.refusal) return refused_or_empty(outcome.refusal);
    spdlog::info("{}: engaged {} ({}) as {}", peer.name, outcome.engagement.workload,
                 api::EngagementModeName(outcome.engagement.mode), outcome.engagement.id);
    return Answer{0, Dump(EngagedJson(outcome))};
  }
  const std::string id = StringField(request, "id", true);
  if (op == "activate") return refused_or_empty(registry_.Activate(peer.id, id));
  return refused_or_empty(registry_.Leave(peer.id, id));
}

std::optional<EngagementService::Answer> EngagementService::HandleWatch(const Peer& peer,
                                                                        uint32_t request_id,
                                                                        uint64_t version) {
  std::shared_ptr<SessionLink> link = peer.link;
  const auto refusal =
      registry_.Watch(peer.id, version, [link, request_id](const WatchState& state) {
        link->SendReply(request_id, {0, Dump(WatchJson(state))}, Clock::now() + kReplyTimeout);
      });
  if (refusal) return Answer{refusal->error_code, ErrorBody(refusal->sentence)};
  return std::nullopt;
}

void EngagementService::RelayAgentStream(const Peer& agent,
                                         std::unique_ptr<tunnel::TunnelStream> stream,
                                         const tunnel::OpenTcp& request, TaskGroup* helpers) {
  if (!request.host.starts_with(kEngagementHostPrefix)) {
    stream->Refuse(ECONNREFUSED, "a traffic-agent opens engagement streams only");
    return;
  }
  const std::string id = request.host.substr(kEngagementHostPrefix.size());
  const EngagementRegistry::Route route = registry_.RouteAgentStream(agent.id, id, request.port);
  if (route.refusal) {
    stream->Refuse(route.refusal->error_code, route.refusal->sentence);
    return;
  }
  std::shared_ptr<SessionLink> daemon = LinkOf(route.daemon);
  if (!daemon) {
    stream->Refuse(ECONNREFUSED, "the daemon of engagement " + id + " is gone");
    return;
  }
  const auto answer_deadline = Clock::now() + config_.connect_timeout;
  std::unique_ptr<tunnel::TunnelStream> handler =
      daemon->OpenTcpEarly(request.host, request.port, answer_deadline);
  if (!handler) {
    stream->Refuse(ECONNREFUSED, "the daemon of engagement " + id + " is gone");
    return;
  }
  // The agent's first bytes (its client's request) travel on while the daemon dials, from this
  // thread: no thread start delays them. The answer and the way back wait on another.
  std::atomic<bool> failed{false};
  CompanionTask back(helpers, [&] {
    if (AnswerAgentStream(*stream, *handler, answer_deadline)) Pump(*handler, *stream, failed);
  });
  Pump(*stream, *handler, failed);
  back.Join();
}

std::shared_ptr<SessionLink> EngagementService::LinkOf(SessionId session) {
  MutexLock lock(links_mutex_);
  const auto found = links_.find(session);
  return found == links_.end() ? nullptr : found->second;
}

void EngagementService::ExpireLoop() {
  MutexLock lock(stop_mutex_);
  while (!stop_wakeup_.WaitFor(stop_mutex_, kExpirePeriod,
                               [this]() REQUIRES(stop_mutex_) { return stopping_; })) {
    lock.Unlock();
    registry_.ExpireWatches();
    lock.Lock();
  }
}

}  // namespace tp::manager
