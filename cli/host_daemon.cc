#include "cli/host_daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <fstream>
#include <thread>

#include "cli/log_tail.h"
#include "cli/process.h"
#include "common/atomic_file.h"
#include "net/host_port.h"

extern char** environ;

namespace tp::cli {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

constexpr char kRecordFile[] = "daemon.json";
constexpr char kLogFile[] = "daemon.log";
constexpr char kPortFile[] = "control-port";
constexpr char kResolvBackupFile[] = "resolv.conf.orig";
constexpr char kDaemonProgram[] = "telepresence-daemon";
constexpr char kHostResolvConf[] = "/etc/resolv.conf";
constexpr milliseconds kPoll{20};
constexpr milliseconds kStopWait{5000};
constexpr size_t kLogLines = 12;
constexpr milliseconds kUndoTimeout{10000};

// The process's state letter and command name from /proc/PID/stat; nullopt when it is gone.
std::optional<std::pair<char, std::string>> ProcessState(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(stat, text)) return std::nullopt;
  const size_t open = text.find('('), close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close + 2 >= text.size()) {
    return std::nullopt;
  }
  return std::make_pair(text[close + 2], text.substr(open + 1, close - open - 1));
}

Result<fs::path> DaemonBinary() {
  std::error_code error;
  const fs::path self = fs::read_symlink("/proc/self/exe", error);
  if (error) return CliError{"cannot find this program's folder: " + error.message()};
  fs::path binary = self.parent_path() / kDaemonProgram;
  if (::access(binary.c_str(), X_OK) != 0) {
    return CliError{std::string(kDaemonProgram) + " is not beside telepresence (" +
                    binary.string() + "): the daemon cannot run on this host"};
  }
  return binary;
}

// Starts `argv` detached (cli/process.h) with TP_CONTROL_TOKEN=`token` in its environment.
Result<pid_t> SpawnDetached(const std::vector<std::string>& argv, const fs::path& log,
                            const std::string& token) {
  std::vector<std::string> environment{"TP_CONTROL_TOKEN=" + token};
  for (char** entry = environ; *entry != nullptr; ++entry) {
    if (!std::string_view(*entry).starts_with("TP_CONTROL_TOKEN=")) environment.push_back(*entry);
  }
  return tp::cli::SpawnDetached(argv, environment, log.string());
}

// The port the daemon wrote ("PORT\n", atomically); nullopt until it has.
std::optional<uint16_t> ReadPort(const fs::path& file) {
  const std::optional<std::string> text = ReadWholeFile(file);
  if (!text) return std::nullopt;
  return ParseServicePort(std::string_view(*text).substr(0, text->find('\n')));
}

std::string ExitText(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

nlohmann::json HostDaemonRecordToJson(const HostDaemonRecord& record) {
  return {{"pid", record.pid},
          {"control_port", record.control_port},
          {"token", record.token},
          {"dns_address", record.dns_address}};
}

std::optional<HostDaemonRecord> HostDaemonRecordFromJson(const nlohmann::json& json) {
  try {
    HostDaemonRecord record{.pid = json.at("pid").get<pid_t>(),
                            .control_port = json.at("control_port").get<uint16_t>(),
                            .token = json.at("token").get<std::string>(),
                            .dns_address = json.at("dns_address").get<std::string>()};
    if (record.pid <= 1) return std::nullopt;
    return record;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;
  }
}

std::vector<std::string> HostDaemonArgv(const std::string& daemon_binary,
                                        const fs::path& state_folder,
                                        const HostDaemonLaunch& launch) {
  return {daemon_binary,
          "--manager",
          launch.manager,
          "--secret-file",
          launch.secret_file.string(),
          "--name",
          "telepresence-daemon (host)",
          "--control",
          "127.0.0.1:0",
          "--control-port-file",
          (state_folder / kPortFile).string(),
          "--dns",
          launch.dns_address + ":53",
          "--resolv-conf",
          kHostResolvConf,
          "--write-resolv-conf",
          "--resolv-conf-backup",
          (state_folder / kResolvBackupFile).string(),
          "--sftp-listen",
          "127.0.0.1"};
}

std::vector<std::string> HostDaemonUndoArgv(const std::string& daemon_binary,
                                            const fs::path& state_folder) {
  return {daemon_binary,          "--undo",
          "--resolv-conf",        kHostResolvConf,
          "--resolv-conf-backup", (state_folder / kResolvBackupFile).string()};
}

HostDaemonProcesses::HostDaemonProcesses(fs::path run_dir) : run_dir_(std::move(run_dir)) {}

fs::path HostDaemonProcesses::StateFolder(const std::string& context_name) const {
  return run_dir_ / context_name;
}

namespace {

std::optional<HostDaemonRecord> ReadRecord(const fs::path& folder) {
  const std::optional<std::string> text = ReadWholeFile(folder / kRecordFile);
  if (!text) return std::nullopt;
  const nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  if (json.is_discarded()) return std::nullopt;
  return HostDaemonRecordFromJson(json);
}

Status WriteRecord(const fs::path& folder, const HostDaemonRecord& record) {
  try {
    WriteFileAtomically(folder / kRecordFile, HostDaemonRecordToJson(record).dump() + "\n");
    return Ok{};
  } catch (const std::runtime_error& failure) {
    return CliError{std::string("cannot write the host daemon's record: ") + failure.what()};
  }
}

}  // namespace

bool HostDaemonProcesses::Running(const HostDaemonRecord& record) {
  const auto state = ProcessState(record.pid);
  // The kernel's command name is the program's first 15 bytes.
  return state && state->first != 'Z' &&
         std::string_view(kDaemonProgram).starts_with(state->second) && state->second.size() >= 12;
}

Result<std::optional<HostDaemonRecord>> HostDaemonProcesses::Find(const std::string& context_name) {
  std::optional<HostDaemonRecord> record = ReadRecord(StateFolder(context_name));
  if (!record || !Running(*record)) return std::optional<HostDaemonRecord>();
  return record;
}

bool HostDaemonProcesses::HasStaleRecord(const std::string& context_name) {
  const fs::path folder = StateFolder(context_name);
  if (!fs::exists(folder)) return false;
  std::optional<HostDaemonRecord> record = ReadRecord(folder);
  return !record || !Running(*record);
}

bool HostDaemonProcesses::HasRecord(const std::string& context_name) {
  return fs::exists(StateFolder(context_name));
}

Result<HostDaemonRecord> HostDaemonProcesses::Start(const HostDaemonLaunch& launch,
                                                    milliseconds timeout) {
  Result<fs::path> binary = DaemonBinary();
  if (!binary.ok()) return binary.error();
  const fs::path folder = StateFolder(launch.context_name);
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || ::chmod(folder.c_str(), 0700) != 0) {
    return CliError{"cannot make the host daemon's folder " + folder.string() + ": " +
                    (error ? error.message() : std::strerror(errno))};
  }
  fs::remove(folder / kPortFile, error);
  Result<pid_t> pid = SpawnDetached(HostDaemonArgv(binary.value(), folder, launch),
                                    folder / kLogFile, launch.token);
  if (!pid.ok()) return pid.error();
  HostDaemonRecord record{
      .pid = pid.value(), .token = launch.token, .dns_address = launch.dns_address};
  if (Status written = WriteRecord(folder, record); !written.ok()) {
    (void)Terminate(record, kStopWait);
    return written.error();
  }
  const Clock::time_point deadline = Clock::now() + timeout;
  while (true) {
    int status = 0;
    if (::waitpid(record.pid, &status, WNOHANG) == record.pid) {
      return CliError{"the daemon " + ExitText(status) + "; its last lines (" +
                      (folder / kLogFile).string() +
                      "):" + IndentedLines(LastLogLines(launch.context_name))};
    }
    if (const std::optional<uint16_t> port = ReadPort(folder / kPortFile)) {
      record.control_port = *port;
      if (Status written = WriteRecord(folder, record); !written.ok()) return written.error();
      return record;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(kPoll);
  }
  (void)Terminate(record, kStopWait);
  return CliError{"the daemon did not open its control API within " +
                  std::to_string(timeout.count() / 1000) +
                  " s; its last lines:" + IndentedLines(LastLogLines(launch.context_name))};
}

std::vector<std::string> HostDaemonProcesses::LastLogLines(const std::string& context_name) {
  std::ifstream log(StateFolder(context_name) / kLogFile);
  std::deque<std::string> lines;
  std::string line;
  while (std::getline(log, line)) {
    lines.push_back(line);
    if (lines.size() > kLogLines) lines.pop_front();
  }
  return {lines.begin(), lines.end()};
}

bool HostDaemonProcesses::Terminate(const HostDaemonRecord& record, milliseconds timeout) {
  if (!Running(record)) return true;
  if (::kill(record.pid, SIGTERM) != 0) return !Running(record);
  const Clock::time_point deadline = Clock::now() + timeout;
  while (Running(record)) {
    int status = 0;
    (void)::waitpid(record.pid, &status, WNOHANG);  // when it is our own child
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(kPoll);
  }
  return true;
}

Status HostDaemonProcesses::CleanUp(const std::string& context_name) {
  const fs::path folder = StateFolder(context_name);
  if (!fs::exists(folder)) return Ok{};
  Result<fs::path> binary = DaemonBinary();
  if (!binary.ok()) return binary.error();
  Result<CapturedOutput> undo =
      RunCaptured(HostDaemonUndoArgv(binary.value(), folder), kUndoTimeout);
  if (!undo.ok()) return undo.error();
  if (undo.value().exit_code != 0) {
    return CliError{"could not put back everything the host daemon left (" +
                    binary.value().string() + " --undo exited with " +
                    std::to_string(undo.value().exit_code) + "): " + undo.value().err};
  }
  std::error_code error;
  fs::remove_all(folder, error);
  if (error) return CliError{"cannot remove " + folder.string() + ": " + error.message()};
  return Ok{};
}

}  // namespace tp::cli
