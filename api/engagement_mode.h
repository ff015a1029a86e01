// EngagementMode: how a local container takes a workload's place, the one type for the CLI (the
// command's name), the daemon and the traffic-manager (the "mode" of the engage request) and the
// traffic-agent (what it does with each connection). See docs/engagements.md.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tp::api {

enum class EngagementMode {
  kReplace,    // every port of the workload goes to the handler
  kIntercept,  // the chosen ports go to the handler, the others to the workload
  kIngest,     // no traffic: the handler gets the workload's environment and volumes
  kWiretap,    // the workload answers; the handler gets a copy of what clients send
};

// "replace", "intercept", "ingest", "wiretap": the command's name and the protocol's word.
std::string_view EngagementModeName(EngagementMode mode);
// The mode `text` names; nullopt when it names none.
std::optional<EngagementMode> ParseEngagementMode(std::string_view text);
// "replace, intercept, ingest, wiretap", for error sentences.
std::string EngagementModeNames();

}  // namespace tp::api
