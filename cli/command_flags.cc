#include "cli/command_flags.h"

#include <algorithm>

#include "cli/validation.h"

namespace tp::cli {

std::string SeeHelp(std::string_view command) {
  return "; see telepresence " + std::string(command) + " --help";
}

namespace {

const FlagSpec* FindFlag(std::span<const FlagSpec> specs, std::string_view word) {
  auto matches = [word](const FlagSpec& spec) {
    return word == spec.name || (!spec.short_name.empty() && word == spec.short_name);
  };
  auto found = std::find_if(specs.begin(), specs.end(), matches);
  return found == specs.end() ? nullptr : &*found;
}

}  // namespace

bool LooksLikeFlag(std::string_view word) { return word.size() >= 2 && word.front() == '-'; }

Result<FlagValues> ParseFlags(std::string_view command, std::span<const std::string> args,
                              std::span<const FlagSpec> specs, UnknownWords unknown_words) {
  FlagValues parsed;
  std::optional<CliError> first_error;
  auto fail = [&](const std::string& problem) {
    if (!first_error) first_error = CliError{problem + SeeHelp(command)};
  };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") {
      parsed.after_dash_dash = parsed.rest.size();
      parsed.rest.insert(parsed.rest.end(), args.begin() + i + 1, args.end());
      break;
    }
    size_t equals = word.find('=');
    std::string_view name = std::string_view(word).substr(0, equals);
    const FlagSpec* spec = LooksLikeFlag(word) ? FindFlag(specs, name) : nullptr;
    if (spec == nullptr && unknown_words == UnknownWords::kPassThrough) {
      parsed.rest.insert(parsed.rest.end(), args.begin() + i, args.end());
      break;
    }
    if (spec == nullptr && LooksLikeFlag(word)) {
      fail("unknown flag " + std::string(name) + " for " + std::string(command));
      continue;
    }
    if (spec == nullptr) {
      parsed.rest.push_back(word);
      continue;
    }
    std::string flag(spec->name);
    if (spec->value_name.empty()) {
      if (equals != std::string::npos) fail("flag " + flag + " takes no value");
      parsed.values[spec->name] = "";
      continue;
    }
    if (parsed.Has(spec->name) && !spec->repeatable) {
      fail("flag " + flag + " given twice for " + std::string(command));
      continue;
    }
    std::optional<std::string> value;
    if (equals != std::string::npos) {
      value = word.substr(equals + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      fail("flag " + flag + " needs a value (" + std::string(spec->value_name) + ")");
      continue;
    }
    parsed.values[spec->name] = *value;
    if (spec->repeatable) parsed.repeated[spec->name].push_back(*value);
  }
  if (parsed.Has(kHelpFlag.name) || !first_error) return parsed;
  return *first_error;
}

Result<std::optional<std::string>> ContextFlag(std::string_view command, const FlagValues& flags) {
  std::optional<std::string> name = flags.Get(kContextFlag.name);
  if (name && !IsValidContextName(*name)) {
    return CliError{"invalid context name '" + *name + "' (" + std::string(ContextNameRule()) +
                    ")" + SeeHelp(command)};
  }
  return name;
}

Status RejectPositionals(std::string_view command, const FlagValues& flags) {
  if (flags.rest.empty()) return Ok{};
  return CliError{std::string(command) + " takes no arguments, got '" + flags.rest.front() + "'" +
                  SeeHelp(command)};
}

std::vector<FlagSpec> WithCommonFlags(std::initializer_list<FlagSpec> own) {
  std::vector<FlagSpec> specs{kHelpFlag, kDockerFlag, kContextFlag};
  specs.insert(specs.end(), own);
  return specs;
}

Result<std::string> DnsLabelArgument(std::string_view command, std::string_view what,
                                     const std::string& value) {
  if (IsDnsLabel(value)) return value;
  return CliError{"invalid " + std::string(what) + " '" + value + "' (" +
                  std::string(DnsLabelRule()) + ")" + SeeHelp(command)};
}

}  // namespace tp::cli
