#include "api/json_fields.h"

#include <charconv>

namespace tp::api {
namespace {

using nlohmann::json;

// A JSON integer 1..65535.
std::optional<uint16_t> PortOf(const json& value) {
  if (!value.is_number_integer()) return std::nullopt;
  const int64_t number = value.get<int64_t>();
  if (number < 1 || number > 65535) return std::nullopt;
  return static_cast<uint16_t>(number);
}

// Decimal text 1..65535 (a JSON object's key).
std::optional<uint16_t> PortOfText(std::string_view text) {
  int64_t number = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (error != std::errc() || end != text.data() + text.size() || number < 1 || number > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(number);
}

}  // namespace

std::string ReadString(const json& object, std::string_view field, std::string& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  if (!value->is_string()) return FieldIsNot(field, "a string");
  target = value->get<std::string>();
  return "";
}

std::string ReadStrings(const json& object, std::string_view field,
                        std::vector<std::string>& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  if (!value->is_array()) return FieldIsNot(field, "a list of strings");
  std::vector<std::string> items;
  for (const json& item : *value) {
    if (!item.is_string()) return FieldIsNot(field, "a list of strings");
    items.push_back(item.get<std::string>());
  }
  target = std::move(items);
  return "";
}

std::string ReadBool(const json& object, std::string_view field, bool& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  if (!value->is_boolean()) return FieldIsNot(field, "true or false");
  target = value->get<bool>();
  return "";
}

std::string ReadCount(const json& object, std::string_view field, uint64_t& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  const bool is_count =
      value->is_number_unsigned() || (value->is_number_integer() && value->get<int64_t>() >= 0);
  if (!is_count) return FieldIsNot(field, "a count");
  target = value->get<uint64_t>();
  return "";
}

std::string ReadPort(const json& object, std::string_view field, uint16_t& target) {
  uint64_t port = target;
  if (std::string problem = ReadCount(object, field, port); !problem.empty()) return problem;
  if (port > 65535) return FieldIsNot(field, "a port (0..65535)");
  target = static_cast<uint16_t>(port);
  return "";
}

std::string FirstProblem(std::initializer_list<std::string> problems) {
  for (const std::string& problem : problems) {
    if (!problem.empty()) return problem;
  }
  return "";
}

std::string FieldIsNot(std::string_view field, std::string_view expected) {
  return "field '" + std::string(field) + "' is not " + std::string(expected);
}

const json* FindField(const json& object, std::string_view field) {
  auto found = object.find(field);
  if (found == object.end() || found->is_null()) return nullptr;
  return &*found;
}

std::string ReadPorts(const json& object, std::string_view field, std::vector<uint16_t>& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  if (!value->is_array()) return FieldIsNot(field, "a list of ports (1..65535)");
  std::vector<uint16_t> ports;
  for (const json& item : *value) {
    const std::optional<uint16_t> port = PortOf(item);
    if (!port) return FieldIsNot(field, "a list of ports (1..65535)");
    ports.push_back(*port);
  }
  target = std::move(ports);
  return "";
}

std::string ReadPortMap(const json& object, std::string_view field,
                        std::map<uint16_t, uint16_t>& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  const std::string expected = "a map of workload ports to handler ports (1..65535)";
  if (!value->is_object()) return FieldIsNot(field, expected);
  std::map<uint16_t, uint16_t> ports;
  for (const auto& [key, item] : value->items()) {
    const std::optional<uint16_t> from = PortOfText(key);
    const std::optional<uint16_t> to = PortOf(item);
    if (!from || !to)
      return FieldIsNot(field, expected + "; \"" + key + "\": " + item.dump() + " is not");
    ports[*from] = *to;
  }
  target = std::move(ports);
  return "";
}

std::string ReadStringMap(const json& object, std::string_view field,
                          std::map<std::string, std::string>& target) {
  const json* value = FindField(object, field);
  if (value == nullptr) return "";
  if (!value->is_object()) return FieldIsNot(field, "a map of strings");
  std::map<std::string, std::string> strings;
  for (const auto& [key, item] : value->items()) {
    if (!item.is_string()) return FieldIsNot(field, "a map of strings");
    strings[key] = item.get<std::string>();
  }
  target = std::move(strings);
  return "";
}

}  // namespace tp::api
