// Typed reads of one field of a JSON object, for the codecs of api/. A missing (or null) field
// leaves the target as it was, so that a newer or older peer that lacks a field is read with the
// default; a field of the wrong type is an error naming the field and what it should be.
#pragma once

#include <cstdint>
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

// The first of `problems` that is not "" (each a Read* result); "" when all are.
std::string FirstProblem(std::initializer_list<std::string> problems);

}  // namespace tp::api
