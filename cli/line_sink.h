// LineSink: a std::streambuf that hands what is written to it to a callback a line at a time, so
// that a command's progress (written to an std::ostream) can go somewhere else as it happens (the
// UI's event stream). A finished line ("...\n") comes without its newline and `partial` false; a
// flush with an unfinished line pending hands over that line so far with `partial` true (the
// same line comes again, longer, later). Not thread-safe: one writer, like any ostream.
#pragma once

#include <functional>
#include <streambuf>
#include <string>
#include <string_view>

namespace tp::cli {

class LineSink : public std::streambuf {
 public:
  using Callback = std::function<void(std::string_view line, bool partial)>;
  explicit LineSink(Callback callback) : callback_(std::move(callback)) {}
  ~LineSink() override;  // hands over an unfinished line as finished

  // The last finished line (without its newline); "" before the first.
  const std::string& last_line() const { return last_line_; }

 protected:
  int_type overflow(int_type c) override;
  std::streamsize xsputn(const char* text, std::streamsize count) override;
  int sync() override;

 private:
  void Put(char c);

  Callback callback_;
  std::string pending_;
  std::string last_line_;
};

}  // namespace tp::cli
