// The agent's view of its workload's engagement and the JSON it exchanges with the manager
// (docs/engagements.md, "agent -> manager"). Pure: no sockets, no threads.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/engagement_mode.h"
#include "api/mount_policy.h"

namespace tp::agent {

using api::EngagementMode;

struct Engagement {
  std::string id;  // "e-..."
  EngagementMode mode = EngagementMode::kIngest;
  std::vector<uint16_t> ports;  // the engaged workload ports
  bool operator==(const Engagement&) const = default;
};

// What the agent does with one new connection to a workload port.
enum class ConnectionRoute {
  kForward,  // to the app only
  kEngage,   // to the handler only, through the stream "engagement/<id>"
  kWiretap,  // to the app, and a copy of the client's bytes to the handler
};

// The route of a connection to `port` while `engagement` (nullopt: none) holds.
ConnectionRoute RouteFor(const std::optional<Engagement>& engagement, uint16_t port);

// "engagement/<id>": the host of the OpenTcp the agent sends for an engaged connection.
std::string EngagementStreamHost(const Engagement& engagement);

struct Registration {
  std::string workload;
  std::string container;
  std::string address;  // the pod's IPv4 address
  std::vector<uint16_t> ports;
  uint16_t sftp_port = 0;
  std::string sftp_token{};  // what the SFTP server asks for
  std::map<std::string, std::string> env;
  std::vector<std::string> mounts;
  api::MountPolicies mount_policies{};  // of the mounts that are not Remote
};

// {"op":"register", ...}
std::string RegisterRequest(const Registration& registration);
// {"op":"watch","version":N}
std::string WatchRequest(uint64_t version);

struct WatchAnswer {
  uint64_t version = 0;
  std::optional<Engagement> engagement;
};
// The manager's answer to watch; nullopt with `error` set when it is not one.
std::optional<WatchAnswer> ParseWatchAnswer(const std::string& body, std::string& error);

// The "error" sentence of a Reply body, or the body itself when it has none.
std::string ReplyErrorText(const std::string& body);

}  // namespace tp::agent
