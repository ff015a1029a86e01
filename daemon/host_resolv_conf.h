// HostResolvConf points a host's resolv.conf at the daemon's DNS server for as long as it lives,
// then puts back the text it found (in place: the file may be a bind mount). The text found is
// also kept in a backup file beside the daemon's state, so that a daemon that dies without its
// destructor leaves the way back: the next Apply() (or Undo()) finds the backup, writes its text
// back first and starts from it. One owner; not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

namespace tp::daemon {

class HostResolvConf {
 public:
  // Makes the new text from the file's original text.
  using TextMaker = std::function<std::string(const std::string& original)>;

  // Restores a leftover backup, saves the file's text in `backup_path`, writes `make_text`'s
  // text. nullptr with `error` set when a step fails (the file is then as it was).
  static std::unique_ptr<HostResolvConf> Apply(const std::string& path,
                                               const std::string& backup_path,
                                               const TextMaker& make_text, std::string& error);
  // Writes a leftover backup (of a daemon that died) back and removes it. True when there was
  // none or it was put back; false with `error` set otherwise.
  static bool Undo(const std::string& path, const std::string& backup_path, std::string& error);

  ~HostResolvConf();  // the original text back, the backup removed
  HostResolvConf(const HostResolvConf&) = delete;
  HostResolvConf& operator=(const HostResolvConf&) = delete;

  const std::string& Text() const { return text_; }  // what Apply wrote

 private:
  HostResolvConf(std::string path, std::string backup_path, std::string text)
      : path_(std::move(path)), backup_path_(std::move(backup_path)), text_(std::move(text)) {}

  const std::string path_;
  const std::string backup_path_;
  const std::string text_;
};

}  // namespace tp::daemon
