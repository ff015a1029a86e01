// What GET /status shows about transparent capture.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tp::daemon {

struct CaptureStatus {
  bool enabled = false;              // false with --no-capture
  bool active = false;               // the table, rule, route and proxy are in place
  uint16_t port = 0;                 // where captured traffic lands
  std::vector<std::string> subnets;  // captured networks (CIDR)
  std::string error;                 // why capture could not be installed or updated; "" if none
};

}  // namespace tp::daemon
