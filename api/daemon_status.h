// DaemonStatus: what the daemon answers to GET /status on its control API, the one type and the
// one JSON codec for the daemon (which writes it), the CLI and the Teleroute plugin (which read
// it). The JSON:
//   {"connected":bool, "manager":"host:port", "subnets":["CIDR",...],
//    "dns":{"address":"ip:port","search":[...]}, "error":"...", "reconnects":N,
//    "capture":{"enabled":bool,"active":bool,"port":N,"subnets":[...],"error":"..."}}
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace tp::api {

// The daemon's transparent capture of cluster traffic.
struct CaptureStatus {
  bool enabled = false;                // false with --no-capture
  bool active = false;                 // the table, rule, route and proxy are in place
  uint16_t port = 0;                   // where captured traffic lands
  std::vector<std::string> subnets{};  // captured networks (CIDR)
  std::string error{};                 // why capture could not be installed or updated; "" if none
  bool operator==(const CaptureStatus&) const = default;
};

struct DaemonStatus {
  bool connected = false;
  std::string manager{};                  // "host:port"
  std::vector<std::string> subnets{};     // CIDR, from the manager
  std::string dns_address{};              // where the daemon's DNS server listens, "ip:port";
                                          // "" until it runs
  std::vector<std::string> dns_search{};  // search domains, from the manager
  std::string error{};                    // the last failure; "" when none
  uint64_t reconnects = 0;
  CaptureStatus capture{};
  bool operator==(const DaemonStatus&) const = default;
};

nlohmann::json DaemonStatusToJson(const DaemonStatus& status);

// Reads a /status body. Missing fields keep their defaults (an older or newer daemon); unknown
// ones are ignored. nullopt with `error` ("field 'X' is not Y", or "not a JSON object") when the
// body is not an object or a field has the wrong type.
std::optional<DaemonStatus> DaemonStatusFromJson(const nlohmann::json& body, std::string& error);

}  // namespace tp::api
