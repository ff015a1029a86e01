#include "cli/line_sink.h"

#include <gtest/gtest.h>

#include <ostream>
#include <vector>

namespace tp::cli {
namespace {

struct Seen {
  std::string line;
  bool partial;
  bool operator==(const Seen&) const = default;
};

TEST(LineSink, HandsOverFinishedLinesAndFlushedPartsOfOne) {
  std::vector<Seen> seen;
  {
    LineSink sink([&](std::string_view line, bool partial) {
      seen.push_back({std::string(line), partial});
    });
    std::ostream out(&sink);
    out << "Creating the network\n";
    out << "Connecting ..." << std::flush;
    out << ".." << std::flush;
    out << " connected" << std::endl;
    EXPECT_EQ(sink.last_line(), "Connecting ..... connected");
    out << "no newline at the end";
  }
  EXPECT_EQ(seen, (std::vector<Seen>{{"Creating the network", false},
                                     {"Connecting ...", true},
                                     {"Connecting .....", true},
                                     {"Connecting ..... connected", false},
                                     {"no newline at the end", false}}));
}

TEST(LineSink, AFlushWithNothingPendingSaysNothing) {
  int calls = 0;
  LineSink sink([&](std::string_view, bool) { ++calls; });
  std::ostream out(&sink);
  out << std::flush;
  out << "x\n" << std::flush;
  EXPECT_EQ(calls, 1);
}

}  // namespace
}  // namespace tp::cli
