#include "cli/log_tail.h"

#include <gtest/gtest.h>

namespace tp::cli {
namespace {

using Lines = std::vector<std::string>;

TEST(LogTailTest, JoinsPiecesIntoLinesWhereverTheyWereCut) {
  LogTail tail(10);
  tail.Feed("first li");
  tail.Feed("ne\nsecond line\nthi");
  tail.Feed("rd");
  EXPECT_EQ(tail.Lines(), (Lines{"first line", "second line", "third"}));
}

TEST(LogTailTest, KeepsOnlyTheLastLines) {
  LogTail tail(2);
  tail.Feed("one\ntwo\nthree\nfour\n");
  EXPECT_EQ(tail.Lines(), (Lines{"three", "four"}));
  tail.Feed("fi");
  EXPECT_EQ(tail.Lines(), (Lines{"four", "fi"}));
}

TEST(LogTailTest, DropsCarriageReturnsAndEmptyLines) {
  LogTail tail(5);
  tail.Feed("a\r\n\n\r\nb\n");
  EXPECT_EQ(tail.Lines(), (Lines{"a", "b"}));
}

TEST(LogTailTest, CutsAnEndlessLine) {
  LogTail tail(5);
  tail.Feed(std::string(LogTail::kMaxLineBytes + 10, 'x'));
  tail.Feed(std::string(50, 'y') + "\nnext\n");
  const Lines lines = tail.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], std::string(LogTail::kMaxLineBytes, 'x'));
  EXPECT_EQ(lines[1], "next");
}

TEST(LogTailTest, NothingFedIsNoLines) { EXPECT_TRUE(LogTail(3).Lines().empty()); }

}  // namespace
}  // namespace tp::cli
