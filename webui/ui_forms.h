// The bodies of the page's POST requests (docs/ui.md) as types, and their decoding. Pure.
// Decoding checks shapes only (strings, arrays of strings, known modes); the driver checks what
// needs the world (the context exists, the workload has that port). Errors are sentences that
// name the field.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tp::webui {

inline constexpr std::string_view kDefaultContext = "default";

// {"context": NAME}, for connect and quit.
struct ContextForm {
  std::string context{kDefaultContext};
};

struct EngageForm {
  std::string context{kDefaultContext};
  std::string workload{};
  std::string mode{};                      // replace, intercept, ingest or wiretap
  std::vector<std::string> ports{};        // LOCAL[:CONTAINER], as for --port
  std::string image{};                     // the handler's image, or
  std::string build_folder{};              // a folder to build it from (--docker-build)
  std::vector<std::string> docker_args{};  // docker run words before the image, verbatim
  std::vector<std::string> args{};         // the image's arguments
};

struct DockerRunForm {
  std::string context{kDefaultContext};
  std::string image{};
  std::vector<std::string> docker_args{};
  std::vector<std::string> args{};
};

// A decoded form, or the sentence saying what is wrong with the body.
template <typename Form>
struct Decoded {
  std::optional<Form> form;
  std::string error;
};

Decoded<ContextForm> DecodeContextForm(std::string_view body);
Decoded<EngageForm> DecodeEngageForm(std::string_view body);
Decoded<DockerRunForm> DecodeDockerRunForm(std::string_view body);

}  // namespace tp::webui
