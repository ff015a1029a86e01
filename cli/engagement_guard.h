// EngagementGuard: an engagement never outlives both the telepresence command that made it and
// its handler container.
//
// The command (replace, intercept, ...) undoes its engagement itself when docker run ends, on
// Ctrl-C, SIGTERM and SIGHUP. What it cannot survive is SIGKILL (or a crash): for that, Start
// forks a guardian process in a session of its own (a closed terminal's SIGHUP does not reach
// it) that waits for the command to end. When the command ended without Release (it died), the
// guardian waits for the handler container to stop (it may run on; its docker run lives), then
// ends the engagement (DELETE /engagements/<id>), removes the handler container, the volumes and
// the env file, and exits. Destroying the guard, or Release, tells the guardian that the command
// cleaned up itself; it then exits at once.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/clock.h"
#include "cli/daemon_control.h"
#include "cli/docker_client.h"
#include "cli/result.h"

namespace tp::cli {

// What must be undone for one engagement.
struct GuardedEngagement {
  std::string engagement_id{};
  DaemonEndpoint daemon{};  // the control API that ends it
  std::string handler{};    // the handler container's name
  std::vector<std::string> volumes{};
  std::string env_file{};  // the private env file docker run reads ("" when none)
};

class EngagementGuard {
 public:
  virtual ~EngagementGuard() = default;
};

// Starts a guard for `engagement`; an error when it cannot (the command then goes on unguarded,
// saying so).
using EngagementGuardFactory =
    std::function<Result<std::unique_ptr<EngagementGuard>>(const GuardedEngagement& engagement)>;

// How often the guardian looks at the handler container once the command died.
inline constexpr std::chrono::milliseconds kGuardPollInterval{500};

// What the guardian does once the command died: waits while the handler container exists and
// runs (or is being created), then ends the engagement, removes the container, the volumes
// (retried for 5 s while Docker still holds them) and the env file. Problems are skipped: there is
// nobody left to tell.
void UndoAbandonedEngagement(const GuardedEngagement& engagement, DockerApi& docker,
                             DaemonControl& control, Clock& clock);

// The real guard: fork() + setsid(); the guardian builds its own DockerEngineApi and
// HttpDaemonControl. Call it while the process has one thread.
Result<std::unique_ptr<EngagementGuard>> StartForkedEngagementGuard(
    const GuardedEngagement& engagement);

}  // namespace tp::cli
