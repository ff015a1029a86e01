#include "api/engagement_mode.h"

#include <gtest/gtest.h>

namespace tp::api {
namespace {

TEST(EngagementModeTest, EachModeReadsBackFromItsName) {
  for (const EngagementMode mode : {EngagementMode::kReplace, EngagementMode::kIntercept,
                                    EngagementMode::kIngest, EngagementMode::kWiretap}) {
    EXPECT_EQ(ParseEngagementMode(EngagementModeName(mode)), mode);
  }
  EXPECT_EQ(EngagementModeNames(), "replace, intercept, ingest, wiretap");
}

TEST(EngagementModeTest, OtherWordsAreNoMode) {
  for (const char* text : {"", "Replace", "replace ", "mirror"}) {
    EXPECT_FALSE(ParseEngagementMode(text)) << text;
  }
}

}  // namespace
}  // namespace tp::api
