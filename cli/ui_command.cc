// `telepresence ui` (docs/ui.md): the page's server in the foreground until Ctrl-C.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

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

// Opens `url` with xdg-open when there is one; says so when there is none. Never waits for the
// browser: xdg-open returns once it handed the address over.
void OpenBrowser(const std::string& url, const CliIo& io) {
  std::string opener = "xdg-open";
  char* argv[] = {opener.data(), const_cast<char*>(url.c_str()), nullptr};
  pid_t child = 0;
  if (posix_spawnp(&child, opener.c_str(), nullptr, nullptr, argv, environ) != 0) {
    io.err << "(no xdg-open here: open the address above in a browser)" << std::endl;
    return;
  }
  int status = 0;
  waitpid(child, &status, 0);
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
