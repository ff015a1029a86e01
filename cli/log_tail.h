// LogTail keeps the last lines of a stream of log output (a container's stdout and stderr as
// Docker hands them over, in pieces that need not end at a line's end), so that a failure can
// quote what the program said last. Lines longer than kMaxLineBytes are cut there. Not
// thread-safe.
#pragma once

#include <cstddef>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace tp::cli {

class LogTail {
 public:
  static constexpr size_t kMaxLineBytes = 1000;

  explicit LogTail(size_t max_lines) : max_lines_(max_lines) {}

  // Appends output; "\n" ends a line, a "\r" before it is dropped.
  void Feed(std::string_view bytes);
  // The last lines, oldest first, with an unfinished last line as the last one; no empty lines.
  std::vector<std::string> Lines() const;

 private:
  void EndLine();

  const size_t max_lines_;
  std::deque<std::string> lines_;
  std::string partial_;
};

// `lines` for a message, each on a line of its own indented by two spaces ("\n  line" each).
std::string IndentedLines(const std::vector<std::string>& lines);

}  // namespace tp::cli
