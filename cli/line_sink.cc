#include "cli/line_sink.h"

namespace tp::cli {

LineSink::~LineSink() {
  if (!pending_.empty()) {
    last_line_ = pending_;
    callback_(pending_, false);
  }
}

void LineSink::Put(char c) {
  if (c != '\n') {
    pending_.push_back(c);
    return;
  }
  last_line_ = std::move(pending_);
  pending_.clear();
  callback_(last_line_, false);
}

LineSink::int_type LineSink::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  Put(traits_type::to_char_type(c));
  return c;
}

std::streamsize LineSink::xsputn(const char* text, std::streamsize count) {
  for (std::streamsize i = 0; i < count; ++i) Put(text[i]);
  return count;
}

int LineSink::sync() {
  if (!pending_.empty()) callback_(pending_, true);
  return 0;
}

}  // namespace tp::cli
