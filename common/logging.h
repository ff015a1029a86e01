// Process-wide logging setup: spdlog, debug level when the DEBUG environment variable is set to
// anything but "", "0" or "false".
#pragma once

#include <spdlog/sinks/sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <string_view>

namespace tp {

enum class LogStreams {
  kStderr,        // every line to stderr (command-line tools, containers)
  kSplitByLevel,  // trace..info to stdout, warn..critical to stderr: for managed plugins, whose
                  // stderr dockerd logs as level=error and stdout as level=info
};

// Configures the default spdlog logger. Call once from main before starting threads.
void InitLogging(std::string_view program_name, LogStreams streams = LogStreams::kStderr);

// True when the DEBUG environment variable asks for debug logs.
bool DebugRequested();

// A sink that hands messages below `threshold` to `below` and the rest to `at_or_above`.
class LevelSplitSink : public spdlog::sinks::sink {
 public:
  LevelSplitSink(std::shared_ptr<spdlog::sinks::sink> below,
                 std::shared_ptr<spdlog::sinks::sink> at_or_above,
                 spdlog::level::level_enum threshold);
  void log(const spdlog::details::log_msg& message) override;
  void flush() override;
  void set_pattern(const std::string& pattern) override;
  void set_formatter(std::unique_ptr<spdlog::formatter> formatter) override;

 private:
  const std::shared_ptr<spdlog::sinks::sink> below_;
  const std::shared_ptr<spdlog::sinks::sink> at_or_above_;
  const spdlog::level::level_enum threshold_;
};

}  // namespace tp
