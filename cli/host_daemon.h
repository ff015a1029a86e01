// The daemon of `telepresence connect` without --docker (Telepresence's default, "hybrid" with
// --docker-run): telepresence-daemon as a process of this host, as root. It captures the
// cluster's subnets in the host's nftables, points the host's resolv.conf at its DNS server (on
// the address of Docker's default bridge, so that containers there reach it too) and serves
// the control API and the SFTP forwards on 127.0.0.1. Its state is one folder per context,
// $TELEPRESENCE_DOCKER_RUN_DIR/<context> (default /run/telepresence-docker/<context>), 0700:
//   daemon.json        HostDaemonRecord (pid, control port, token): who runs, and its credential
//   daemon.log         its log
//   control-port       the daemon writes its control API's port there once it listens
//   resolv.conf.orig   the host's resolv.conf while the daemon has it rewritten
// The record's pid counts only while that process is a telepresence-daemon (a pid reused by
// another program is a stale record).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "cli/result.h"

namespace tp::cli {

struct HostDaemonRecord {
  pid_t pid = 0;
  uint16_t control_port = 0;
  std::string token{};        // the control API's credential
  std::string dns_address{};  // where its DNS server listens (port 53)
  bool operator==(const HostDaemonRecord&) const = default;
};
nlohmann::json HostDaemonRecordToJson(const HostDaemonRecord& record);
std::optional<HostDaemonRecord> HostDaemonRecordFromJson(const nlohmann::json& json);

// What starts a host daemon.
struct HostDaemonLaunch {
  std::string context_name{};
  std::string manager{};  // HOST:PORT
  std::filesystem::path secret_file{};
  std::string dns_address{};  // numeric IPv4: Docker's default bridge's gateway
  std::string token{};        // for the control API
};

// The daemon's command line (argv[0] is `daemon_binary`), its state in `state_folder`.
std::vector<std::string> HostDaemonArgv(const std::string& daemon_binary,
                                        const std::filesystem::path& state_folder,
                                        const HostDaemonLaunch& launch);
// The command line that puts back what a daemon of that folder left when it died.
std::vector<std::string> HostDaemonUndoArgv(const std::string& daemon_binary,
                                            const std::filesystem::path& state_folder);

// The host daemons of this machine. Real in main (HostDaemonProcesses); tests give none.
class HostDaemons {
 public:
  virtual ~HostDaemons() = default;
  // The context's daemon while its process runs; nullopt when there is no record, or only a
  // stale one (the daemon died: CleanUp() puts back what it left).
  virtual Result<std::optional<HostDaemonRecord>> Find(const std::string& context_name) = 0;
  // Whether the context has a record whose daemon is gone.
  virtual bool HasStaleRecord(const std::string& context_name) = 0;
  // Whether the context has a record at all, its daemon running or not.
  virtual bool HasRecord(const std::string& context_name) = 0;
  // Starts the daemon and waits (up to `timeout`) until its control API listens. Error: it
  // cannot start, or it ended (with its last log lines), or did not listen in time (it is
  // stopped then).
  virtual Result<HostDaemonRecord> Start(const HostDaemonLaunch& launch,
                                         std::chrono::milliseconds timeout) = 0;
  virtual bool Running(const HostDaemonRecord& record) = 0;
  // The last lines of the context's daemon log, oldest first.
  virtual std::vector<std::string> LastLogLines(const std::string& context_name) = 0;
  // Once the daemon has ended: puts back what it left on the host if it died (resolv.conf,
  // capture) and removes the state folder. Error: something could not be put back.
  virtual Status CleanUp(const std::string& context_name) = 0;
  // Sends SIGTERM and waits up to `timeout` for the process to end; false when it did not.
  virtual bool Terminate(const HostDaemonRecord& record, std::chrono::milliseconds timeout) = 0;
};

// The real ones: telepresence-daemon beside this program (/proc/self/exe), state in
// `run_dir`/<context>.
class HostDaemonProcesses : public HostDaemons {
 public:
  explicit HostDaemonProcesses(std::filesystem::path run_dir);

  Result<std::optional<HostDaemonRecord>> Find(const std::string& context_name) override;
  bool HasStaleRecord(const std::string& context_name) override;
  bool HasRecord(const std::string& context_name) override;
  Result<HostDaemonRecord> Start(const HostDaemonLaunch& launch,
                                 std::chrono::milliseconds timeout) override;
  bool Running(const HostDaemonRecord& record) override;
  std::vector<std::string> LastLogLines(const std::string& context_name) override;
  Status CleanUp(const std::string& context_name) override;
  bool Terminate(const HostDaemonRecord& record, std::chrono::milliseconds timeout) override;

  std::filesystem::path StateFolder(const std::string& context_name) const;

 private:
  const std::filesystem::path run_dir_;
};

}  // namespace tp::cli
