#include "api/json_fields.h"

namespace tp::api {
namespace {

using nlohmann::json;

std::string NotA(std::string_view field, std::string_view expected) {
  return "field '" + std::string(field) + "' is not " + std::string(expected);
}

// The field, or nullptr when it is absent or null.
const json* Find(const json& object, std::string_view field) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

}  // namespace

std::string ReadString(const json& object, std::string_view field, std::string& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  if (!value->is_string()) return NotA(field, "a string");
  target = value->get<std::string>();
  return "";
}

std::string ReadStrings(const json& object, std::string_view field,
                        std::vector<std::string>& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  if (!value->is_array()) return NotA(field, "a list of strings");
  std::vector<std::string> items;
  for (const json& item : *value) {
    if (!item.is_string()) return NotA(field, "a list of strings");
    items.push_back(item.get<std::string>());
  }
  target = std::move(items);
  return "";
}

std::string ReadBool(const json& object, std::string_view field, bool& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  if (!value->is_boolean()) return NotA(field, "true or false");
  target = value->get<bool>();
  return "";
}

std::string ReadCount(const json& object, std::string_view field, uint64_t& target) {
  const json* value = Find(object, field);
  if (value == nullptr) return "";
  const bool is_count =
      value->is_number_unsigned() || (value->is_number_integer() && value->get<int64_t>() >= 0);
  if (!is_count) return NotA(field, "a count");
  target = value->get<uint64_t>();
  return "";
}

std::string ReadPort(const json& object, std::string_view field, uint16_t& target) {
  uint64_t port = target;
  if (std::string problem = ReadCount(object, field, port); !problem.empty()) return problem;
  if (port > 65535) return NotA(field, "a port (0..65535)");
  target = static_cast<uint16_t>(port);
  return "";
}

std::string FirstProblem(std::initializer_list<std::string> problems) {
  for (const std::string& problem : problems) {
    if (!problem.empty()) return problem;
  }
  return "";
}

}  // namespace tp::api
