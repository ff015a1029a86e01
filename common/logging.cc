#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <cstdlib>
#include <string>

namespace tp {

bool DebugRequested() {
  const char* value = std::getenv("DEBUG");
  if (value == nullptr) return false;
  const std::string text(value);
  return !(text.empty() || text == "0" || text == "false");
}

LevelSplitSink::LevelSplitSink(std::shared_ptr<spdlog::sinks::sink> below,
                               std::shared_ptr<spdlog::sinks::sink> at_or_above,
                               spdlog::level::level_enum threshold)
    : below_(std::move(below)), at_or_above_(std::move(at_or_above)), threshold_(threshold) {}

void LevelSplitSink::log(const spdlog::details::log_msg& message) {
  if (message.level < threshold_) {
    below_->log(message);
    return;
  }
  at_or_above_->log(message);
}

void LevelSplitSink::flush() {
  below_->flush();
  at_or_above_->flush();
}

void LevelSplitSink::set_pattern(const std::string& pattern) {
  below_->set_pattern(pattern);
  at_or_above_->set_pattern(pattern);
}

void LevelSplitSink::set_formatter(std::unique_ptr<spdlog::formatter> formatter) {
  below_->set_formatter(formatter->clone());
  at_or_above_->set_formatter(std::move(formatter));
}

void InitLogging(std::string_view program_name, LogStreams streams) {
  std::shared_ptr<spdlog::sinks::sink> sink =
      std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  if (streams == LogStreams::kSplitByLevel) {
    sink = std::make_shared<LevelSplitSink>(std::make_shared<spdlog::sinks::stdout_color_sink_mt>(),
                                            std::move(sink), spdlog::level::warn);
  }
  auto logger = std::make_shared<spdlog::logger>(std::string(program_name), std::move(sink));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %n %^%l%$ %v");
  logger->set_level(DebugRequested() ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

}  // namespace tp
