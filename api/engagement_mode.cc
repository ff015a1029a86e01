#include "api/engagement_mode.h"

#include <array>

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
  for (const EngagementMode mode : kModes) {
    if (EngagementModeName(mode) == text) return mode;
  }
  return std::nullopt;
}

std::string EngagementModeNames() {
  std::string names;
  for (const EngagementMode mode : kModes) {
    names += (names.empty() ? "" : ", ") + std::string(EngagementModeName(mode));
  }
  return names;
}

}  // namespace tp::api
