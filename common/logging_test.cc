#include "common/logging.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

namespace tp {
namespace {

struct SplitLogger {
  std::ostringstream out;
  std::ostringstream err;
  spdlog::logger logger{
      "test", std::make_shared<LevelSplitSink>(
                  std::make_shared<spdlog::sinks::ostream_sink_st>(out),
                  std::make_shared<spdlog::sinks::ostream_sink_st>(err), spdlog::level::warn)};
  SplitLogger() {
    logger.set_pattern("%l %v");
    logger.set_level(spdlog::level::debug);
  }
};

TEST(LevelSplitSinkTest, InfoAndDebugGoToTheLowStreamWarningsAndErrorsToTheHighOne) {
  SplitLogger split;
  split.logger.debug("d");
  split.logger.info("i");
  split.logger.warn("w");
  split.logger.error("e");
  EXPECT_EQ(split.out.str(), "debug d\ninfo i\n");
  EXPECT_EQ(split.err.str(), "warning w\nerror e\n");
}

TEST(LevelSplitSinkTest, ThePatternReachesBothStreams) {
  SplitLogger split;
  split.logger.set_pattern("[%n] %v");
  split.logger.info("to out");
  split.logger.critical("to err");
  EXPECT_EQ(split.out.str(), "[test] to out\n");
  EXPECT_EQ(split.err.str(), "[test] to err\n");
}

}  // namespace
}  // namespace tp
