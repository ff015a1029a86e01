// EngagementService speaks the engagement protocol of docs/engagements.md over the tunnels'
// Request/Reply frames, on top of an EngagementRegistry: it parses the JSON requests of agents
// (register, watch) and daemons (list, engage, activate, leave) and answers them (watches later,
// from whatever thread sees the change or the timeout), and relays an agent's
// "engagement/<id>" streams to the engaging daemon's tunnel. A malformed request gets an EINVAL
// Reply; nothing a peer sends can crash it. Sessions Attach once their tunnel runs and Detach
// when it died. Thread-safe.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "cluster/manager/engagement_registry.h"
#include "common/task_group.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::manager {

// A session's tunnel, usable from other threads while the session lives: once detached, every
// call fails as on a dead tunnel. Detach waits for calls in progress (they end quickly on the
// dead tunnel it is detached after).
class SessionLink {
 public:
  void Attach(tunnel::TunnelConnection* connection);
  void Detach();
  bool SendReply(uint32_t request_id, tunnel::Reply reply, tunnel::Deadline deadline);
  // TunnelConnection::OpenTcpEarly on the session's tunnel; nullptr once detached.
  std::unique_ptr<tunnel::TunnelStream> OpenTcpEarly(const std::string& host, uint16_t port,
                                                     tunnel::Deadline answer_deadline);

 private:
  // A usage lock more than a state lock: SendReply and OpenTcp use the connection under the
  // reader's side (so that Detach, the writer, waits until no call uses it any more); those calls
  // do not wait for the peer.
  SharedMutex mutex_;
  tunnel::TunnelConnection* connection_ GUARDED_BY(mutex_) = nullptr;
};

enum class PeerKind { kDaemon, kAgent };

struct Peer {
  SessionId id = 0;
  PeerKind kind = PeerKind::kDaemon;
  std::string name;  // the Hello's client_name
  std::shared_ptr<SessionLink> link;
};

// "agent/echo" is an agent; anything else a daemon.
PeerKind PeerKindOf(const std::string& client_name);

struct EngagementServiceConfig {
  std::chrono::milliseconds watch_timeout{20000};
  std::chrono::milliseconds connect_timeout{5000};  // the daemon's answer to OpenTcp
};

class EngagementService {
 public:
  explicit EngagementService(EngagementServiceConfig config = {});
  // Stops the watch timer. Sessions must have detached.
  ~EngagementService();
  EngagementService(const EngagementService&) = delete;
  EngagementService& operator=(const EngagementService&) = delete;

  void Attach(const Peer& peer);
  // The peer's tunnel died: an agent's workload leaves, a daemon's engagements end.
  void Detach(const Peer& peer);

  // A Request from `peer`, on its tunnel's reader thread: answered now or (watch) later.
  void OnRequest(const Peer& peer, uint32_t request_id, const tunnel::Request& request);
  // An agent's stream to "engagement/<id>": opens the same on the engaging daemon's tunnel and
  // relays the two until both ends closed or one failed, or refuses it. The agent's early bytes
  // go on to the daemon before the daemon answers; the daemon's answer is then the agent's
  // (Accept, or a refusal with ECONNREFUSED). Blocks: run it on a thread of its own.
  // The way back runs on a waiting thread of `helpers` when it has one (see CompanionTask).
  void RelayAgentStream(const Peer& agent, std::unique_ptr<tunnel::TunnelStream> stream,
                        const tunnel::OpenTcp& request, TaskGroup* helpers = nullptr);

  EngagementRegistry& registry() { return registry_; }

 private:
  struct Answer {
    int error_code = 0;
    std::string body;
  };
  // Answer for everything but watch; nullopt when the answer is sent later.
  std::optional<Answer> Handle(const Peer& peer, uint32_t request_id, const std::string& body);
  std::optional<Answer> HandleWatch(const Peer& peer, uint32_t request_id, uint64_t version);
  std::shared_ptr<SessionLink> LinkOf(SessionId session);
  void ExpireLoop();

  const EngagementServiceConfig config_;
  EngagementRegistry registry_;

  Mutex links_mutex_;
  std::map<SessionId, std::shared_ptr<SessionLink>> links_ GUARDED_BY(links_mutex_);

  Mutex stop_mutex_;
  CondVar stop_wakeup_;
  bool stopping_ GUARDED_BY(stop_mutex_) = false;
  std::thread expirer_;
};

}  // namespace tp::manager
