#include "webui/ui_forms.h"

#include <array>

namespace tp::webui {
namespace {

using nlohmann::json;

constexpr size_t kMaxWords = 256;
constexpr std::array<std::string_view, 4> kModes = {"replace", "intercept", "ingest", "wiretap"};

// Reads the body as a JSON object; "" when it is one.
std::string ParseObject(std::string_view body, json& object) {
  object = json::parse(body.empty() ? std::string_view("{}") : body, nullptr, false);
  if (object.is_discarded() || !object.is_object()) return "the body must be a JSON object";
  return "";
}

bool HasNul(const std::string& text) { return text.find('\0') != std::string::npos; }

// An optional string field into `out` (kept when absent); "" or the error.
std::string ReadString(const json& object, const char* field, std::string& out) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return "";
  if (!found->is_string() || HasNul(found->get_ref<const std::string&>())) {
    return std::string("\"") + field + "\" must be a string";
  }
  out = found->get<std::string>();
  return "";
}

std::string RequireString(const json& object, const char* field, std::string& out) {
  if (std::string error = ReadString(object, field, out); !error.empty()) return error;
  if (out.empty()) return std::string("\"") + field + "\" is missing";
  return "";
}

// An optional array of strings into `out`: each word stays one argument, never split.
std::string ReadWords(const json& object, const char* field, std::vector<std::string>& out) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return "";
  const std::string wrong = std::string("\"") + field + "\" must be an array of strings";
  if (!found->is_array()) return wrong;
  if (found->size() > kMaxWords) {
    return std::string("\"") + field + "\" has more than " + std::to_string(kMaxWords) + " words";
  }
  for (const json& word : *found) {
    if (!word.is_string() || HasNul(word.get_ref<const std::string&>())) return wrong;
    out.push_back(word.get<std::string>());
  }
  return "";
}

template <typename Form>
Decoded<Form> Failed(std::string error) {
  return Decoded<Form>{std::nullopt, std::move(error)};
}

}  // namespace

Decoded<ContextForm> DecodeContextForm(std::string_view body) {
  json object;
  if (std::string error = ParseObject(body, object); !error.empty())
    return Failed<ContextForm>(error);
  ContextForm form;
  if (std::string error = ReadString(object, "context", form.context); !error.empty()) {
    return Failed<ContextForm>(error);
  }
  return {form, ""};
}

Decoded<EngageForm> DecodeEngageForm(std::string_view body) {
  json object;
  if (std::string error = ParseObject(body, object); !error.empty())
    return Failed<EngageForm>(error);
  EngageForm form;
  for (std::string error :
       {ReadString(object, "context", form.context),
        RequireString(object, "workload", form.workload), RequireString(object, "mode", form.mode),
        ReadWords(object, "ports", form.ports), ReadString(object, "image", form.image),
        ReadString(object, "build_folder", form.build_folder),
        ReadWords(object, "docker_args", form.docker_args), ReadWords(object, "args", form.args)}) {
    if (!error.empty()) return Failed<EngageForm>(error);
  }
  bool known_mode = false;
  for (std::string_view mode : kModes) known_mode = known_mode || form.mode == mode;
  if (!known_mode) {
    return Failed<EngageForm>("\"mode\" must be replace, intercept, ingest or wiretap");
  }
  if (form.image.empty() == form.build_folder.empty()) {
    return Failed<EngageForm>("give either \"image\" or \"build_folder\", not both or neither");
  }
  return {form, ""};
}

Decoded<DockerRunForm> DecodeDockerRunForm(std::string_view body) {
  json object;
  if (std::string error = ParseObject(body, object); !error.empty()) {
    return Failed<DockerRunForm>(error);
  }
  DockerRunForm form;
  for (std::string error :
       {ReadString(object, "context", form.context), RequireString(object, "image", form.image),
        ReadWords(object, "docker_args", form.docker_args), ReadWords(object, "args", form.args)}) {
    if (!error.empty()) return Failed<DockerRunForm>(error);
  }
  return {form, ""};
}

}  // namespace tp::webui
