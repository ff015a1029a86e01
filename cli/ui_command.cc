// `telepresence ui` (docs/ui.md): the page's server in the foreground until Ctrl-C.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "cli/stop_signals.h"
#include "cli/ui_driver.h"
#include "common/secret.h"
#include "webui/event_hub.h"
#include "webui/ui_server.h"

extern char** environ;

namespace tp::cli {
namespace {

constexpr std::string_view kCommand = "ui";
constexpr std::chrono::milliseconds kOpenerWait{3000};
constexpr std::chrono::milliseconds kOpenerPoll{50};

// Whether the opener ended with a failure within kOpenerWait (one still running opened a
// browser, as far as anyone can tell; it is reaped when it ends, or by init after this process).
bool OpenerFailed(pid_t child) {
  const auto deadline = std::chrono::steady_clock::now() + kOpenerWait;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    if (done < 0) return true;
    std::this_thread::sleep_for(kOpenerPoll);
  }
  return false;
}

// Opens `url` with xdg-open (its own chatter discarded); when there is none, or it finds no
// browser, says to open the address by hand. Waits for xdg-open at most kOpenerWait: some run the
// browser in the foreground, and Ctrl-C must still stop the UI.
void OpenBrowser(const std::string& url, const CliIo& io) {
  std::string opener = "xdg-open";
  char* argv[] = {opener.data(), const_cast<char*>(url.c_str()), nullptr};
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t child = 0;
  const int spawned = posix_spawnp(&child, opener.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned == 0 && !OpenerFailed(child)) return;
  io.err << "(no browser could be opened here: open the address above in one)" << std::endl;
}

}  // namespace

int RunUi(const UiCommand& command, const CliIo& io, CliServices& services) {
  std::string error;
  std::optional<std::string> token = NewSecretToken(error);
  if (!token) return Fail(io, kCommand, "cannot make the page's secret: " + error);
  // Before any thread starts, so that every thread keeps these signals blocked and this one
  // takes them.
  const StopSignals stop_signals;
  webui::EventHub events;
  CliUiDriver driver(io.environment, services, events, ContextNameOrDefault(command.context_name));
  driver.WatchDaemons();
  webui::UiServer server(driver, events, services.ui_assets);
  if (!server.Listen(command.port, *token, error)) return Fail(io, kCommand, error);
  server.Start();
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/?token=" + *token;
  io.out << "Telepresence UI: " << url << "   (Ctrl-C stops it)" << std::endl;
  if (command.open_browser) OpenBrowser(url, io);
  while (!stop_signals.WaitFor(std::chrono::seconds(1))) {
  }
  io.err << "Stopping the UI: leaving its engagements" << std::endl;
  // The engagements first: a request still waiting for one gets its answer, and then the server's
  // workers can stop.
  driver.Shutdown();
  server.Stop();
  return kExitOk;
}

}  // namespace tp::cli
