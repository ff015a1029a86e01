// UiDriver: what the page's JSON API (docs/ui.md) does, behind the HTTP. UiServer decodes each
// request into the arguments below (ui_forms.h) and answers with the UiReply the driver returns;
// the CLI implements the driver with the same code as its commands (cli/ui_driver.h).
//
// Every method may block (Docker, the daemon) and is called on a server thread, several at once.
// Progress, state changes and logs go to the EventHub the driver was given, not to the reply.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "webui/ui_forms.h"

namespace tp::webui {

struct UiReply {
  int status = 200;
  nlohmann::json body = nlohmann::json::object();  // {"error": SENTENCE} unless 2xx
};

// {"error": sentence} with `status`.
UiReply ErrorReply(int status, std::string sentence);

class UiDriver {
 public:
  virtual ~UiDriver() = default;

  virtual UiReply Contexts() = 0;
  virtual UiReply Status(const std::string& context) = 0;
  virtual UiReply Connect(const std::string& context) = 0;
  virtual UiReply Quit(const std::string& context) = 0;
  virtual UiReply Workloads(const std::string& context) = 0;
  virtual UiReply Images() = 0;
  virtual UiReply Engage(const EngageForm& form) = 0;
  virtual UiReply Engagements(const std::string& context) = 0;
  virtual UiReply Leave(const std::string& context, const std::string& engagement_id) = 0;
  virtual UiReply DockerRun(const DockerRunForm& form) = 0;
  virtual UiReply StopContainer(const std::string& container) = 0;
};

}  // namespace tp::webui
