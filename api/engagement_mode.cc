#include "api/engagement_mode.h"

#include <array>

#include "api/enum_names.h"

namespace tp::api {
namespace {

constexpr std::array kModes = {EngagementMode::kReplace, EngagementMode::kIntercept,
                               EngagementMode::kIngest, EngagementMode::kWiretap};

}  // namespace

std::string_view EngagementModeName(EngagementMode mode) {
  switch (mode) {
    case EngagementMode::kReplace:
      return "replace";
    case EngagementMode::kIntercept:
      return "intercept";
    case EngagementMode::kIngest:
      return "ingest";
    case EngagementMode::kWiretap:
      return "wiretap";
  }
  return "replace";
}

std::optional<EngagementMode> ParseEngagementMode(std::string_view text) {
  return EnumNamed<EngagementMode>(kModes, EngagementModeName, text);
}

std::string EngagementModeNames() { return EnumNames<EngagementMode>(kModes, EngagementModeName); }

}  // namespace tp::api
