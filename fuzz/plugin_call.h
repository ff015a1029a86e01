// Shared by the plugin request fuzz targets: turns one fuzz input into one plugin API call and
// checks what the shared plugin layer answers. An input is "Method.Name\n" followed by the
// request body; when the first line names no route, the whole input is the body of a call to
// every route. Whatever the body, the answer must be 200 with a JSON object, or 400/500 with
// exactly {"Err": sentence}; anything else (or a crash) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/plugin_server.h"

namespace tp::fuzz {

// Calls the route(s) the input names through AnswerPluginCall and aborts when an answer breaks
// the shape above.
void CallPluginRoutes(const std::vector<PluginRoute>& routes, const uint8_t* data, size_t size);

// Silences the plugin layer's logging (a malformed body is logged at warning level).
void QuietPluginLogs();

}  // namespace tp::fuzz
