// EngagementObserver: hears of an engagement command's steps as they happen, for `telepresence
// ui`, which runs the same command in the background and shows its state in the page. The
// command line has none. Calls come from the command's thread.
#pragma once

#include <string>

#include "api/engagement.h"

namespace tp::cli {

struct EngagementPlan;

class EngagementObserver {
 public:
  virtual ~EngagementObserver() = default;
  // The daemon granted the engagement and the plan is made: the handler's name, environment and
  // volumes are known; its docker run comes next.
  virtual void Planned(const EngagementPlan& plan, const api::EngagementGrant& grant) = 0;
  // The handler container has its address and the daemon sends it the traffic.
  virtual void Active(const std::string& handler_address) = 0;
};

}  // namespace tp::cli
