// The engagements this daemon made (docs/engagements.md, "CLI -> daemon"): for each, the
// traffic-manager's engage answer, the handler that takes its traffic once the CLI names it, the
// local port of its SFTP forward, and the tunnel it was made on (an engagement ends with that
// tunnel). EngagementTable answers where a stream the manager opens for "engagement/<id>" and a
// workload port goes. Also the checks of the CLI's request bodies. Thread-safe; pure logic (the
// forward objects it holds are opaque to it).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/engagement.h"
#include "sync/mutex.h"

namespace tp::tunnel {
class TunnelConnection;
}

namespace tp::daemon {

inline constexpr std::string_view kEngagementHostPrefix = "engagement/";

// Where an engagement's traffic goes: the handler container's address, and for each workload
// port the handler's port (the CLI's POST /engagements/<id>/handler body).
using Handler = api::HandlerBody;

struct Engagement {
  std::string id;
  nlohmann::json answer;           // the manager's engage answer, "sftp_port" as the agent's
  std::vector<uint16_t> ports;     // the engaged workload ports (from the answer)
  std::string agent_address;       // the agent's (pod's) address
  uint16_t agent_sftp_port = 0;    // where the agent serves SFTP
  std::string agent_sftp_token;    // the token its SFTP server asks for ("": none)
  uint16_t sftp_forward_port = 0;  // the daemon's local port that forwards to it
  std::optional<Handler> handler;
  std::weak_ptr<tunnel::TunnelConnection> tunnel;  // the tunnel it was made on
  std::shared_ptr<void> sftp_forward;              // kept alive while the engagement is
  // The engage answer as GET /engagements shows it: the forward's port and the handler.
  nlohmann::json ToJson() const;
};

// The engagement described by the manager's engage `answer`; nullopt with `error` set when the
// answer lacks what the daemon needs (id, address, sftp_port, ports) or has a malformed
// sftp_token. The agent's token is taken out of the kept answer.
std::optional<Engagement> EngagementFromAnswer(const nlohmann::json& answer, std::string& error);

// The manager's `engage` request for the CLI's POST /engagements body (api::EngageRequest, read
// with its codec): {"op":"engage","workload","mode","ports"[,"name"]}.
nlohmann::json ManagerEngageRequest(const api::EngageRequest& request);

// Where a stream for an engaged port goes, or why it cannot.
struct HandlerTarget {
  std::string address;  // "" when refused
  uint16_t port = 0;
  std::string refusal;  // a sentence when refused
};

class EngagementTable {
 public:
  // False when an engagement with that id is there already.
  bool Add(Engagement engagement);
  std::optional<Engagement> Find(const std::string& id) const;
  enum class SetHandlerResult { kSet, kUnknownId, kHasHandler, kPortNotEngaged };
  // Gives the engagement its handler, once. Every workload port of the handler's map must be an
  // engaged port; `error` says why not otherwise.
  SetHandlerResult SetHandler(const std::string& id, Handler handler, std::string& error);
  // Takes the handler away again (a failed activation); nothing when the id is unknown.
  void ClearHandler(const std::string& id);
  // Takes the engagement out; nullopt when unknown.
  std::optional<Engagement> Remove(const std::string& id);
  // Takes every engagement out.
  std::vector<Engagement> RemoveAll();
  // Takes out the engagements whose tunnel has died: the manager ended them with it.
  std::vector<Engagement> RemoveDead();
  std::vector<Engagement> All() const;
  size_t Size() const;
  // The handler's address and port for a stream the manager opens to `host` ("engagement/<id>")
  // and the workload `port`. A port that is engaged but absent from the handler's port map goes
  // to the same port number on the handler.
  HandlerTarget Lookup(std::string_view host, uint16_t port) const;

 private:
  mutable Mutex mutex_;
  std::map<std::string, Engagement> engagements_ GUARDED_BY(mutex_);  // by id
};

}  // namespace tp::daemon
