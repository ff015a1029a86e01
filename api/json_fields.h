// Typed reads of one field of a JSON object, for the codecs of api/. A missing (or null) field
// leaves the target as it was, so that a newer or older peer that lacks a field is read with the
// default; a field of the wrong type is an error naming the field and what it should be.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace tp::api {

// "" when read (or absent), else "field 'NAME' is not EXPECTED".
std::string ReadString(const nlohmann::json& object, std::string_view field, std::string& target);
std::string ReadStrings(const nlohmann::json& object, std::string_view field,
                        std::vector<std::string>& target);
std::string ReadBool(const nlohmann::json& object, std::string_view field, bool& target);
std::string ReadCount(const nlohmann::json& object, std::string_view field, uint64_t& target);
// A port number 0..65535.
std::string ReadPort(const nlohmann::json& object, std::string_view field, uint16_t& target);

// A list of ports 1..65535.
std::string ReadPorts(const nlohmann::json& object, std::string_view field,
                      std::vector<uint16_t>& target);
// An object whose keys are ports 1..65535 in decimal and whose values are ports 1..65535.
std::string ReadPortMap(const nlohmann::json& object, std::string_view field,
                        std::map<uint16_t, uint16_t>& target);
// An object of strings.
std::string ReadStringMap(const nlohmann::json& object, std::string_view field,
                          std::map<std::string, std::string>& target);

// For readers of types of their own: "field 'NAME' is not EXPECTED", and the field (nullptr when
// it is absent or null).
std::string FieldIsNot(std::string_view field, std::string_view expected);
const nlohmann::json* FindField(const nlohmann::json& object, std::string_view field);

// The first of `problems` that is not "" (each a Read* result); "" when all are.
std::string FirstProblem(std::initializer_list<std::string> problems);

}  // namespace tp::api
