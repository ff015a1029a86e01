#include "cli/ui_progress.h"

#include <ostream>
#include <sstream>

#include "cli/line_sink.h"

namespace tp::cli {

ProgressRun RunWithProgress(std::string_view action, webui::EventHub& events,
                            const EnvironmentLookup& environment,
                            const std::function<int(const CliIo&)>& command) {
  std::ostringstream out;
  ProgressRun run;
  {
    LineSink progress([&](std::string_view line, bool partial) {
      events.Publish("progress", {{"action", action}, {"line", line}, {"partial", partial}});
    });
    std::ostream err(&progress);
    run.exit_code = command(CliIo{out, err, environment});
    err.flush();
    run.last_line = progress.last_line();
  }
  run.out = out.str();
  return run;
}

}  // namespace tp::cli
