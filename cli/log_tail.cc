#include "cli/log_tail.h"

namespace tp::cli {

void LogTail::Feed(std::string_view bytes) {
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    const std::string_view piece = bytes.substr(0, end);
    partial_.append(piece.substr(0, kMaxLineBytes - std::min(kMaxLineBytes, partial_.size())));
    if (end == std::string_view::npos) return;
    EndLine();
    bytes.remove_prefix(end + 1);
  }
}

void LogTail::EndLine() {
  if (!partial_.empty() && partial_.back() == '\r') partial_.pop_back();
  if (!partial_.empty()) lines_.push_back(std::move(partial_));
  partial_.clear();
  while (lines_.size() > max_lines_) lines_.pop_front();
}

std::vector<std::string> LogTail::Lines() const {
  std::vector<std::string> lines(lines_.begin(), lines_.end());
  if (!partial_.empty()) {
    lines.push_back(partial_);
    if (lines.size() > max_lines_) lines.erase(lines.begin());
  }
  return lines;
}

std::string IndentedLines(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& line : lines) text += "\n  " + line;
  return text;
}

}  // namespace tp::cli
