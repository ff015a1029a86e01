// SftpServer for real: an OpenSSH sftp-server session over loopback TCP, confined by
// libtp_chroot.so to an export tree. Needs root (chroot) and /usr/lib/openssh/sftp-server.
#include "cluster/agent/sftp_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "common/secret.h"
#include "common/sftp_preface.h"

namespace tp::agent {
namespace {

namespace fs = std::filesystem;
constexpr const char* kSftpServer = "/usr/lib/openssh/sftp-server";

// The few SFTP v3 requests the test needs, blocking, each with a deadline.
class SftpClient {
 public:
  explicit SftpClient(uint16_t port) : socket_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ =
        ::connect(socket_.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
  }
  bool Init() {
    std::string body;
    PutU32(body, 3);
    return Send(1, body) && Receive().type == 2;  // SSH_FXP_VERSION
  }
  // REALPATH: the canonical path, or "" on error.
  std::string RealPath(const std::string& path) {
    const Packet reply = Request(16, {path});
    if (reply.type != 104) return "";  // SSH_FXP_NAME
    size_t at = 4;
    if (GetU32(reply.body, at) != 1) return "";
    return GetString(reply.body, at);
  }
  // The names in a folder, or nullopt when it cannot be opened.
  std::optional<std::set<std::string>> List(const std::string& path) {
    const Packet opened = Request(11, {path});    // OPENDIR
    if (opened.type != 102) return std::nullopt;  // HANDLE
    size_t at = 4;
    const std::string handle = GetString(opened.body, at);
    std::set<std::string> names;
    while (true) {
      const Packet page = Request(12, {handle});  // READDIR
      if (page.type != 104) break;                // STATUS EOF ends it
      at = 4;
      const uint32_t count = GetU32(page.body, at);
      for (uint32_t i = 0; i < count; ++i) {
        names.insert(GetString(page.body, at));
        GetString(page.body, at);  // long name
        SkipAttributes(page.body, at);
      }
    }
    Request(4, {handle});  // CLOSE
    return names;
  }
  // The first bytes of a file, or nullopt when it cannot be opened.
  std::optional<std::string> Read(const std::string& path) {
    std::string open_body;
    PutString(open_body, path);
    PutU32(open_body, 1);  // SSH_FXF_READ
    PutU32(open_body, 0);  // no attributes
    const Packet opened = Call(3, open_body);
    if (opened.type != 102) return std::nullopt;
    size_t at = 4;
    const std::string handle = GetString(opened.body, at);
    std::string read_body;
    PutString(read_body, handle);
    PutU32(read_body, 0);
    PutU32(read_body, 0);  // offset (u64)
    PutU32(read_body, 4096);
    const Packet data = Call(5, read_body);
    Request(4, {handle});
    if (data.type != 103) return std::string();  // DATA; EOF: empty
    at = 4;
    return GetString(data.body, at);
  }

  bool Connected() const { return connected_; }
  // Sends `bytes` as they are (a preface, before Init).
  bool SendRaw(const std::string& bytes) {
    return ::send(socket_.Get(), bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(bytes.size());
  }

 private:
  struct Packet {
    uint8_t type = 0;
    std::string body;  // after the type (starts with the request id, except VERSION)
  };
  static void PutU32(std::string& out, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((value >> shift) & 0xff);
  }
  static void PutString(std::string& out, const std::string& text) {
    PutU32(out, static_cast<uint32_t>(text.size()));
    out += text;
  }
  static uint32_t GetU32(const std::string& in, size_t& at) {
    if (at + 4 > in.size()) return 0;
    uint32_t value = 0;
    for (int i = 0; i < 4; ++i) value = (value << 8) | static_cast<uint8_t>(in[at + i]);
    at += 4;
    return value;
  }
  static std::string GetString(const std::string& in, size_t& at) {
    const uint32_t size = GetU32(in, at);
    if (at + size > in.size()) return "";
    std::string text = in.substr(at, size);
    at += size;
    return text;
  }
  static void SkipAttributes(const std::string& in, size_t& at) {
    const uint32_t flags = GetU32(in, at);
    if (flags & 1) at += 8;  // size
    if (flags & 2) at += 8;  // uid, gid
    if (flags & 4) at += 4;  // permissions
    if (flags & 8) at += 8;  // atime, mtime
  }
  Packet Request(uint8_t type, const std::vector<std::string>& strings) {
    std::string body;
    for (const std::string& text : strings) PutString(body, text);
    return Call(type, body);
  }
  Packet Call(uint8_t type, const std::string& body) {
    std::string with_id;
    PutU32(with_id, ++next_id_);
    if (!Send(type, with_id + body)) return {};
    return Receive();
  }
  bool Send(uint8_t type, const std::string& body) {
    std::string packet;
    PutU32(packet, static_cast<uint32_t>(body.size() + 1));
    packet += static_cast<char>(type);
    packet += body;
    return ::send(socket_.Get(), packet.data(), packet.size(), MSG_NOSIGNAL) ==
           static_cast<ssize_t>(packet.size());
  }
  bool ReadExactly(std::string& into, size_t size) {
    into.resize(size);
    size_t got = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (got < size && std::chrono::steady_clock::now() < deadline) {
      pollfd wait{socket_.Get(), POLLIN, 0};
      if (::poll(&wait, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(socket_.Get(), into.data() + got, size - got, 0);
      if (n <= 0) return false;
      got += static_cast<size_t>(n);
    }
    return got == size;
  }
  Packet Receive() {
    std::string header;
    if (!ReadExactly(header, 5)) return {};
    size_t at = 0;
    const uint32_t length = GetU32(header, at);
    Packet packet;
    packet.type = static_cast<uint8_t>(header[4]);
    if (length < 1 || !ReadExactly(packet.body, length - 1)) return {};
    return packet;
  }

  UniqueFd socket_;
  bool connected_ = false;
  uint32_t next_id_ = 0;
};

class SftpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "chroot needs root";
    if (::access(kSftpServer, X_OK) != 0) GTEST_SKIP() << kSftpServer << " is not installed";
    char pattern[] = "/tmp/agent-sftp-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    top_ = pattern;
    exports_ = top_ / "exports";
    fs::create_directories(exports_ / "echo/srv/echo-data");
    std::ofstream(exports_ / "echo/srv/echo-data/message.txt") << "message from the volume\n";
    std::ofstream(top_ / "outside.txt") << "secret outside the exports\n";
    Restart(32);
  }
  void Restart(size_t max_sessions, const std::string& chroot_library = TP_CHROOT_LIBRARY,
               const std::string& token = "") {
    server_.reset();
    std::string error;
    server_ = SftpServer::Start(
        {"127.0.0.1", 0, exports_.string(), kSftpServer, chroot_library, token, max_sessions},
        error);
    ASSERT_TRUE(server_) << error;
  }
  void TearDown() override {
    server_.reset();
    if (!top_.empty()) fs::remove_all(top_);
  }

  fs::path top_;
  fs::path exports_;
  std::unique_ptr<SftpServer> server_;
};

TEST_F(SftpServerTest, ASessionSeesOnlyTheExportTree) {
  SftpClient client(server_->BoundPort());
  ASSERT_TRUE(client.Connected());
  ASSERT_TRUE(client.Init());
  EXPECT_EQ(client.RealPath("."), "/");
  EXPECT_EQ(client.List("/"), (std::set<std::string>{".", "..", "echo"}));
  EXPECT_EQ(client.List("/echo/srv/echo-data"), (std::set<std::string>{".", "..", "message.txt"}));
  EXPECT_EQ(client.Read("/echo/srv/echo-data/message.txt"), "message from the volume\n");
}

TEST_F(SftpServerTest, DotDotStaysInside) {
  SftpClient client(server_->BoundPort());
  ASSERT_TRUE(client.Init());
  EXPECT_EQ(client.RealPath("../../.."), "/");
  EXPECT_EQ(client.List("../.."), (std::set<std::string>{".", "..", "echo"}));
  EXPECT_EQ(client.Read("../outside.txt"), std::nullopt);
  EXPECT_EQ(client.Read("../../echo/srv/echo-data/message.txt"), "message from the volume\n");
}

TEST_F(SftpServerTest, EachConnectionGetsItsOwnSessionAndItEndsWithTheConnection) {
  {
    SftpClient first(server_->BoundPort());
    SftpClient second(server_->BoundPort());
    ASSERT_TRUE(first.Init());
    ASSERT_TRUE(second.Init());
    EXPECT_EQ(server_->LiveSessions(), 2u);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (server_->LiveSessions() != 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server_->LiveSessions(), 0u);
}

// A peer that opens connections without end gets max_sessions sessions; each further connection
// is closed at once, and the sessions already running are served as before.
TEST_F(SftpServerTest, ConnectionsPastTheSessionCapAreClosedAndTheOthersKeepWorking) {
  Restart(2);
  SftpClient first(server_->BoundPort());
  SftpClient second(server_->BoundPort());
  ASSERT_TRUE(first.Init());
  ASSERT_TRUE(second.Init());
  SftpClient third(server_->BoundPort());
  EXPECT_FALSE(third.Init()) << "a third session past the cap of 2";
  EXPECT_EQ(server_->LiveSessions(), 2u);
  EXPECT_EQ(first.Read("/echo/srv/echo-data/message.txt"), "message from the volume\n");
  EXPECT_EQ(second.RealPath("."), "/");
}

// With a token (as the agent always runs), the pod network reaches no volume without it: a
// plain SFTP client and a wrong token get no session; the right preface gets one.
TEST_F(SftpServerTest, WithATokenOnlyAClientThatShowsItGetsASession) {
  std::string error;
  const std::string token = NewSecretToken(error).value_or("");
  const std::string wrong = NewSecretToken(error).value_or("");
  ASSERT_TRUE(IsSecretToken(token) && IsSecretToken(wrong)) << error;
  Restart(32, TP_CHROOT_LIBRARY, token);

  SftpClient plain(server_->BoundPort());
  EXPECT_FALSE(plain.Init()) << "SFTP without the preface";
  SftpClient guessing(server_->BoundPort());
  ASSERT_TRUE(guessing.SendRaw(SftpPreface(wrong)));
  EXPECT_FALSE(guessing.Init()) << "a wrong token";
  EXPECT_EQ(server_->LiveSessions(), 0u) << "no sftp-server ran for them";

  SftpClient holder(server_->BoundPort());
  ASSERT_TRUE(holder.SendRaw(SftpPreface(token)));
  ASSERT_TRUE(holder.Init());
  EXPECT_EQ(holder.Read("/echo/srv/echo-data/message.txt"), "message from the volume\n");
}

// The preloaded library is what confines a session; when it does not run (the loader ignores
// LD_PRELOAD, or loads a library that does nothing), the session must not serve the client
// unconfined: it never gets the connection.
TEST_F(SftpServerTest, ASessionThatIsNotConfinedNeverServesTheClient) {
  const char* inert = "/lib/x86_64-linux-gnu/libm.so.6";
  if (::access(inert, R_OK) != 0)
    GTEST_SKIP() << inert << " (a library that confines nothing) is missing";
  Restart(4, inert);
  SftpClient client(server_->BoundPort());
  EXPECT_FALSE(client.Init()) << "an unconfined sftp-server answered";
  EXPECT_EQ(client.Read("../outside.txt"), std::nullopt);
}

TEST(SftpSessionCommandTest, PreloadsTheChrootLibraryWithTheExportsFolder) {
  const SftpSessionCommand command =
      BuildSftpSessionCommand({"10.0.0.1", 8022, "/tel_app_exports", "/sftp", "/lib/c.so"});
  EXPECT_EQ(command.argv.front(), "/sftp");
  EXPECT_NE(std::find(command.env.begin(), command.env.end(), "LD_PRELOAD=/lib/c.so"),
            command.env.end());
  EXPECT_NE(std::find(command.env.begin(), command.env.end(), "TP_CHROOT=/tel_app_exports"),
            command.env.end());
  EXPECT_NE(std::find(command.env.begin(), command.env.end(),
                      "TP_CHROOT_CONNECTION_FD=" + std::to_string(kSessionConnectionFd)),
            command.env.end());
}

TEST(SftpServerStartTest, RefusesAMissingExportsFolderOrLibrary) {
  std::string error;
  EXPECT_FALSE(
      SftpServer::Start({"127.0.0.1", 0, "/nonexistent", kSftpServer, TP_CHROOT_LIBRARY}, error));
  EXPECT_EQ(error, "the exports folder /nonexistent does not exist");
  EXPECT_FALSE(SftpServer::Start({"127.0.0.1", 0, "/tmp", kSftpServer, "relative.so"}, error));
}

}  // namespace
}  // namespace tp::agent
