// Tests of sftp-export: option parsing, and the real binary serving an SFTP handshake.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cluster/sftp-export/export_options.h"
#include "cluster/sftp-export/session_launcher.h"
#include "net/tcp_socket.h"

namespace tp::sftp_export {
namespace {

TEST(ExportOptionsTest, NeedsRoot) {
  const auto parsed = ParseExportOptions({"--listen", "127.0.0.1:0"});
  EXPECT_FALSE(parsed.options);
  EXPECT_NE(parsed.error.find("--root"), std::string::npos);
}

TEST(ExportOptionsTest, ReadsEveryFlagInBothSpellings) {
  const auto parsed = ParseExportOptions({"--root=/srv", "--listen", "[::1]:2222", "--port-file",
                                          "/tmp/p", "--sftp-server=/bin/x", "--read-only"});
  ASSERT_TRUE(parsed.options) << parsed.error;
  EXPECT_EQ(parsed.options->root, "/srv");
  EXPECT_EQ(parsed.options->listen, "[::1]:2222");
  EXPECT_EQ(parsed.options->port_file, "/tmp/p");
  EXPECT_EQ(parsed.options->sftp_server, "/bin/x");
  EXPECT_TRUE(parsed.options->read_only);
}

TEST(ExportOptionsTest, DefaultsToAFreeLoopbackPortAndOpenSsh) {
  const auto parsed = ParseExportOptions({"--root", "/srv"});
  ASSERT_TRUE(parsed.options);
  EXPECT_EQ(parsed.options->listen, "127.0.0.1:0");
  EXPECT_EQ(parsed.options->sftp_server, "/usr/lib/openssh/sftp-server");
}

TEST(ExportOptionsTest, RejectsUnknownFlagsAndMissingValues) {
  EXPECT_FALSE(ParseExportOptions({"--root", "/srv", "--bogus"}).options);
  EXPECT_FALSE(ParseExportOptions({"--root"}).options);
}

TEST(SessionLauncherTest, EscapesPercentInStartDirectory) {
  EXPECT_EQ(EscapeStartDirectory("/data/100%/x"), "/data/100%%/x");
}

TEST(SessionLauncherTest, RunsSftpServerInTheRootWithLogsOnStderr) {
  ExportOptions options;
  options.root = "/srv";
  options.read_only = true;
  sigset_t mask;
  sigemptyset(&mask);
  const SessionLauncher launcher(options, mask);
  const std::vector<std::string> expected = {
      "/usr/lib/openssh/sftp-server", "-d", "/srv", "-e", "-l", "ERROR", "-R"};
  EXPECT_EQ(launcher.Command(), expected);
}

TEST(TcpSocketTest, PortFileHoldsTheNumber) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("sftp-export-test-port-" + std::to_string(getpid()));
  std::string error;
  ASSERT_TRUE(WritePortFile(path, 4242, error)) << error;
  std::ifstream file(path);
  int port = 0;
  file >> port;
  EXPECT_EQ(port, 4242);
  std::filesystem::remove(path);
}

// --- The real binary -------------------------------------------------------------------------

// Runs build/bin/sftp-export on a temporary folder; kills it (SIGTERM) when destroyed.
class RunningExport {
 public:
  RunningExport() {
    const auto base =
        std::filesystem::temp_directory_path() / ("sftp-export-test-" + std::to_string(getpid()));
    std::filesystem::create_directories(base);
    root_ = base;
    port_file_ = base / "port";
    pid_ = fork();
    if (pid_ == 0) {
      execl(SFTP_EXPORT_BINARY, SFTP_EXPORT_BINARY, "--root", root_.c_str(), "--port-file",
            port_file_.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~RunningExport() {
    if (pid_ > 0) Stop();
    std::filesystem::remove_all(root_);
  }

  // Waits for the port file; 0 on timeout.
  int WaitForPort() const {
    for (int tries = 0; tries < 200; ++tries) {
      std::ifstream file(port_file_);
      int port = 0;
      if (file >> port) return port;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return 0;
  }

  // SIGTERMs the export and returns its exit status.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  std::filesystem::path root_;
  std::filesystem::path port_file_;
  pid_t pid_ = -1;
};

// SSH_FXP_INIT, version 3: uint32 length 5, byte type 1, uint32 version 3.
constexpr std::array<uint8_t, 9> kSftpInit = {0, 0, 0, 5, 1, 0, 0, 0, 3};
constexpr uint8_t kSftpVersionType = 2;

bool ReadExactly(int fd, uint8_t* data, size_t size) {
  size_t got = 0;
  while (got < size) {
    const ssize_t n = read(fd, data + got, size - got);
    if (n <= 0) return false;
    got += static_cast<size_t>(n);
  }
  return true;
}

TEST(SftpExportBinaryTest, AnswersSftpInitAndEndsSessionsOnSigterm) {
  RunningExport server;
  const int port = server.WaitForPort();
  ASSERT_GT(port, 0);
  DialResult dial = DialTcp("127.0.0.1", static_cast<uint16_t>(port),
                            std::chrono::steady_clock::now() + std::chrono::seconds(5));
  ASSERT_TRUE(dial.socket.Valid()) << dial.message;
  UniqueFd connection = std::move(dial.socket);
  ASSERT_EQ(write(connection.Get(), kSftpInit.data(), kSftpInit.size()),
            static_cast<ssize_t>(kSftpInit.size()));
  std::array<uint8_t, 9> header{};  // length, type, version
  ASSERT_TRUE(ReadExactly(connection.Get(), header.data(), header.size()));
  EXPECT_EQ(header[4], kSftpVersionType);
  EXPECT_EQ(header[8], 3);

  const int status = server.Stop();
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  // The session went away with the export: the connection reaches its end.
  std::array<uint8_t, 4096> rest{};
  ssize_t n = 0;
  while ((n = read(connection.Get(), rest.data(), rest.size())) > 0) {
  }
  EXPECT_LE(n, 0);
}

}  // namespace
}  // namespace tp::sftp_export
