#include "fuzz/plugin_call.h"

#include <spdlog/spdlog.h>

#include <cstdlib>
#include <string>
#include <string_view>

namespace tp::fuzz {
namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

void CheckAnswerShape(const PluginAnswer& answer) {
  Check(!answer.body.empty() && answer.body.back() == '\n');
  const nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
  Check(!body.is_discarded() && body.is_object());
  if (answer.status == 200) return;
  Check(answer.status == 400 || answer.status == 500);
  Check(body.size() == 1 && body.contains("Err") && body["Err"].is_string());
}

}  // namespace

void CallPluginRoutes(const std::vector<PluginRoute>& routes, const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t newline = input.find('\n');
  if (newline != std::string_view::npos) {
    const std::string_view method = input.substr(0, newline);
    for (const PluginRoute& route : routes) {
      if (route.method != method) continue;
      CheckAnswerShape(AnswerPluginCall(route, std::string(input.substr(newline + 1))));
      return;
    }
  }
  const std::string body(input);
  for (const PluginRoute& route : routes) CheckAnswerShape(AnswerPluginCall(route, body));
}

void QuietPluginLogs() { spdlog::set_level(spdlog::level::off); }

}  // namespace tp::fuzz
