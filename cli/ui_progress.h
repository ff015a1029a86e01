// How `telepresence ui` runs one of the CLI's commands: its stdout captured, its stderr going line
// by line to the page as `progress` events of an action (docs/ui.md).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "cli/services.h"
#include "webui/event_hub.h"

namespace tp::cli {

struct ProgressRun {
  int exit_code = 0;
  std::string out;        // what the command wrote to stdout
  std::string last_line;  // its last stderr line (its error, when it failed with Fail)
};

ProgressRun RunWithProgress(std::string_view action, webui::EventHub& events,
                            const EnvironmentLookup& environment,
                            const std::function<int(const CliIo&)>& command);

}  // namespace tp::cli
