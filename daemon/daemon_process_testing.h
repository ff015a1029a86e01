// Test support for running the real telepresence-daemon binary: a temporary folder, the daemon
// as a child process (in the calling thread's network namespace), and waiting for its log.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace tp::daemon::testing {

// A temporary folder, removed with the object.
class TempFolder {
 public:
  TempFolder() {
    char folder_template[] = "/tmp/daemon-binary-test.XXXXXX";
    path_ = ::mkdtemp(folder_template);
  }
  ~TempFolder() { std::filesystem::remove_all(path_); }
  std::string Write(const std::string& name, const std::string& contents) const {
    const std::string path = path_ + "/" + name;
    std::ofstream(path) << contents;
    return path;
  }
  std::string Path(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The daemon as a child process, its stderr in a file; killed if still running at the end.
class DaemonProcess {
 public:
  DaemonProcess(std::vector<std::string> arguments, const std::string& log_path) {
    arguments.insert(arguments.begin(), TELEPRESENCE_DAEMON_BINARY);
    pid_ = ::fork();
    if (pid_ == 0) {
      const int log = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(log, STDERR_FILENO);
      std::vector<char*> argv;
      for (std::string& argument : arguments) argv.push_back(argument.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~DaemonProcess() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Signal(int number) const { ::kill(pid_, number); }
  // The exit code once it exited before `deadline`; nullopt if it still runs or was killed.
  std::optional<int> WaitForExit(std::chrono::steady_clock::time_point deadline) {
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_status_ = status;
        if (!WIFEXITED(status)) return std::nullopt;
        return WEXITSTATUS(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return std::nullopt;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

// Waits until the log at `path` holds `marker`; the rest of that line, or nullopt.
inline std::optional<std::string> WaitForLog(const std::string& path, const std::string& marker,
                                             std::chrono::steady_clock::time_point deadline) {
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream log(path);
    std::stringstream contents;
    contents << log.rdbuf();
    const std::string text = contents.str();
    if (const size_t found = text.find(marker); found != std::string::npos) {
      const size_t start = found + marker.size();
      return text.substr(start, text.find('\n', start) - start);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

}  // namespace tp::daemon::testing
