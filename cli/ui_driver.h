// CliUiDriver: the page's JSON API (webui/ui_driver.h, docs/ui.md) done by the CLI's own commands
// in this process (commands.h), never by running `telepresence` again: the page does exactly what
// the command line does.
//
// A command's stderr (its progress and its error) goes, line by line, to the EventHub as
// `progress` events; its stdout (JSON, with --output json) becomes the reply. A failed command's
// reply is 500 {"error": the sentence the CLI prints, without "telepresence COMMAND: "}.
// One action (connect, quit) runs per context at a time; another meanwhile gets 409.
// Engagements run in the background (ui_engagements.h) until left, quit, or Shutdown().
//
// Thread safety: every method may be called from several server threads at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>

#include "cli/services.h"
#include "cli/ui_engagements.h"
#include "sync/mutex.h"
#include "webui/event_hub.h"
#include "webui/ui_driver.h"

namespace tp::cli {

class CliUiDriver : public webui::UiDriver {
 public:
  // `services` must be safe to use from several threads (the real ones are).
  CliUiDriver(EnvironmentLookup environment, CliServices& services, webui::EventHub& events,
              std::string default_context);

  webui::UiReply Contexts() override;
  webui::UiReply Status(const std::string& context) override;
  webui::UiReply Connect(const std::string& context) override;
  webui::UiReply Quit(const std::string& context) override;
  webui::UiReply Workloads(const std::string& context) override;
  webui::UiReply Images() override;
  webui::UiReply Engage(const webui::EngageForm& form) override;
  webui::UiReply Engagements(const std::string& context) override;
  webui::UiReply Leave(const std::string& context, const std::string& engagement_id) override;
  webui::UiReply DockerRun(const webui::DockerRunForm& form) override;
  webui::UiReply StopContainer(const std::string& container) override;

  // Follows Docker's events of the daemon containers and their Teleroute networks: each start,
  // stop, attach or detach publishes that context's status (no polling). Call once, before
  // serving; Shutdown() stops it.
  void WatchDaemons();

  // Leaves every engagement this page started and waits for them, and removes the containers it
  // ran (the end of `telepresence ui`). From then on Engage and DockerRun answer 503, and a
  // POST /api/engagements still waiting gets its answer (the engagement ended), so that the
  // server's workers can stop.
  void Shutdown() EXCLUDES(mutex_);

 private:
  // Leaves the page's engagements of `context` ("": all) and waits for each (at most a minute).
  void LeaveAll(const std::string& context) EXCLUDES(mutex_);
  std::shared_ptr<UiEngagement> FindEngagement(const std::string& context, const std::string& id)
      EXCLUDES(mutex_);

  struct Outcome {
    int exit_code = 0;
    std::string out;    // what the command wrote to stdout
    std::string error;  // its error sentence, when it failed
  };
  // Runs `command` with stdout captured and stderr going to `progress` events of `action`.
  Outcome RunCommand(std::string_view action, const std::function<int(const CliIo&)>& command);
  // The command's stdout as the JSON reply, or 500 with its error.
  webui::UiReply JsonReply(const Outcome& outcome);
  // The status reply for `context`, also published as a `status` event.
  webui::UiReply PublishStatus(const std::string& context);

  // Marks `context` busy with an action; false when another runs there.
  bool BeginAction(const std::string& context) EXCLUDES(mutex_);
  void EndAction(const std::string& context) EXCLUDES(mutex_);

  EnvironmentLookup environment_;
  CliServices& services_;
  webui::EventHub& events_;
  const std::string default_context_;
  Mutex mutex_;
  std::set<std::string> busy_contexts_ GUARDED_BY(mutex_);
  bool closing_ GUARDED_BY(mutex_) = false;                                    // Shutdown() began
  std::vector<std::shared_ptr<UiEngagement>> engagements_ GUARDED_BY(mutex_);  // oldest first
  // The containers POST /api/docker-run started (by short id), with their log follows.
  std::map<std::string, std::unique_ptr<StreamFollow>> containers_ GUARDED_BY(mutex_);
  std::unique_ptr<StreamFollow> daemon_events_;  // set by WatchDaemons, reset by Shutdown
};

}  // namespace tp::cli
