// SftpSession and SftpConnection against a real OpenSSH sftp-server (started per TCP connection
// by a small listener in this test, as sftp-export does), and against a hostile peer written
// here that speaks raw bytes: replies out of order, malformed replies, a non-SFTP server. Every
// wait in these tests has a deadline: a session that hangs fails the test, it does not stall it.
#include "sftp/sftp_session.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/secret.h"
#include "common/sftp_preface.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

extern char** environ;

namespace tp::sftp {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr const char* kSftpServer = "/usr/lib/openssh/sftp-server";

template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Accepts connections on `listener` until `running` turns false, handing each to `serve`.
void AcceptUntilStopped(const TcpListener& listener, const std::atomic<bool>& running,
                        const std::function<void(UniqueFd)>& serve) {
  while (running) {
    pollfd waiter{listener.socket.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, 20) != 1) continue;
    UniqueFd connection(::accept4(listener.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (connection.Valid()) serve(std::move(connection));
  }
}

TcpListener ListenOnLoopback() {
  std::string error;
  TcpListener listener = ListenTcp("127.0.0.1:0", error);
  EXPECT_TRUE(listener.socket.Valid()) << error;
  return listener;
}

// A TCP listener on a free loopback port that runs OpenSSH's sftp-server for each connection,
// after reading the SFTP preface when `with_preface`. Kills its sessions when destroyed.
class SftpServerOnTcp {
 public:
  explicit SftpServerOnTcp(fs::path root, bool with_preface = false)
      : root_(std::move(root)), with_preface_(with_preface), listener_(ListenOnLoopback()) {
    thread_ = std::thread([this] {
      AcceptUntilStopped(listener_, running_, [this](UniqueFd c) { Serve(std::move(c)); });
    });
  }
  ~SftpServerOnTcp() {
    running_ = false;
    thread_.join();
    MutexLock lock(mutex_);
    for (pid_t pid : sessions_) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
  }

  uint16_t port() const { return static_cast<uint16_t>(listener_.bound_port); }
  // Sends `signal` to every sftp-server started so far; returns how many there are.
  int SignalSessions(int signal) {
    MutexLock lock(mutex_);
    for (pid_t pid : sessions_) ::kill(pid, signal);
    return static_cast<int>(sessions_.size());
  }
  int sessions() {
    MutexLock lock(mutex_);
    return static_cast<int>(sessions_.size());
  }
  std::vector<std::string> prefaces() {
    MutexLock lock(mutex_);
    return prefaces_;
  }

 private:
  void Serve(UniqueFd connection) {
    if (with_preface_) {
      std::string preface(kSftpPrefaceSize, '\0');
      const ssize_t n = ::recv(connection.Get(), preface.data(), preface.size(), MSG_WAITALL);
      preface.resize(n < 0 ? 0 : static_cast<size_t>(n));
      MutexLock lock(mutex_);
      prefaces_.push_back(preface);
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, connection.Get(), 0);
    posix_spawn_file_actions_adddup2(&actions, connection.Get(), 1);
    const std::string root = root_.string();
    const char* argv[] = {kSftpServer, "-d", root.c_str(), "-l", "ERROR", nullptr};
    pid_t pid = -1;
    if (posix_spawn(&pid, kSftpServer, &actions, nullptr, const_cast<char**>(argv), environ) == 0) {
      MutexLock lock(mutex_);
      sessions_.push_back(pid);
    }
    posix_spawn_file_actions_destroy(&actions);
    // Our copy of the connection closes here: the session alone holds it, so it ends with it.
  }

  const fs::path root_;
  const bool with_preface_;
  TcpListener listener_;
  std::atomic<bool> running_{true};
  Mutex mutex_;
  std::vector<pid_t> sessions_ GUARDED_BY(mutex_);
  std::vector<std::string> prefaces_ GUARDED_BY(mutex_);
  std::thread thread_;
};

// One connection to a peer that runs `script` on it (raw bytes, no SFTP server behind). The
// connection stays open until the peer is destroyed, so the client sees what the script sent,
// not an end of stream.
class RawPeer {
 public:
  explicit RawPeer(std::function<void(int)> script) : listener_(ListenOnLoopback()) {
    thread_ = std::thread([this, script = std::move(script)] {
      pollfd waiter{listener_.socket.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 5000) != 1) return;
      connection_ = ::accept4(listener_.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC);
      if (connection_ < 0) return;
      timeval timeout{5, 0};  // no script read waits for ever
      ::setsockopt(connection_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
      script(connection_);
    });
  }
  ~RawPeer() {
    if (connection_ >= 0) ::shutdown(connection_, SHUT_RDWR);
    thread_.join();
    if (connection_ >= 0) ::close(connection_);
  }
  uint16_t port() const { return static_cast<uint16_t>(listener_.bound_port); }

 private:
  TcpListener listener_;
  std::atomic<int> connection_{-1};
  std::thread thread_;
};

// Reads one packet; returns its body (type, id, payload), or nothing.
std::vector<uint8_t> ReadPacket(int fd) {
  uint8_t header[4];
  if (::recv(fd, header, 4, MSG_WAITALL) != 4) return {};
  const uint32_t length = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) |
                          (uint32_t{header[2]} << 8) | header[3];
  std::vector<uint8_t> body(length);
  if (length > kMaxPacketLength ||
      ::recv(fd, body.data(), length, MSG_WAITALL) != static_cast<ssize_t>(length)) {
    return {};
  }
  return body;
}

void SendBytes(int fd, const std::vector<uint8_t>& bytes) {
  ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
}

// Reads INIT and answers VERSION 3: what every SFTP server does first.
bool AnswerInit(int fd) {
  const std::vector<uint8_t> init = ReadPacket(fd);
  if (init.empty() || init[0] != static_cast<uint8_t>(PacketType::kInit)) return false;
  SendBytes(fd, std::move(PacketWriter(PacketType::kVersion).U32(3)).Finish());
  return true;
}

// An LSTAT request's id and path.
struct Request {
  uint32_t id = 0;
  std::string path;
};
Request ReadRequest(int fd) {
  const std::vector<uint8_t> body = ReadPacket(fd);
  PacketReader reader(body);
  reader.U8();
  Request request;
  request.id = reader.U32();
  request.path = reader.String();
  return request;
}

SessionOptions OptionsFor(uint16_t port, std::chrono::milliseconds request_timeout = 4000ms) {
  SessionOptions options;
  options.host = "127.0.0.1";
  options.port = port;
  options.request_timeout = request_timeout;
  return options;
}

PendingReply SendLstat(SftpSession& session, const std::string& path) {
  return session.Send(PacketType::kLstat, [&](PacketWriter& w) { w.String(path); });
}

// The size in an ATTRS reply, or -errno.
int64_t SizeOf(const SftpReply& reply) {
  if (int failure = reply.Errno(PacketType::kAttrs)) return -failure;
  return static_cast<int64_t>(reply.Payload().Attributes().size);
}

class SftpSessionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("sftp-session-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(root_);
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  void WriteFile(const std::string& name, size_t size) {
    std::ofstream(root_ / name, std::ios::binary) << std::string(size, 'x');
  }
  std::string Path(const std::string& name) const { return (root_ / name).string(); }

  static inline int counter_ = 0;
  fs::path root_;
};

TEST_F(SftpSessionTest, ConnectsHandshakesAndAnswersARealServer) {
  WriteFile("five", 5);
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  EXPECT_TRUE(session->HasExtension("posix-rename@openssh.com")) << "VERSION's extensions read";
  EXPECT_EQ(
      SizeOf(session->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(Path("five")); })),
      5);
  EXPECT_EQ(SizeOf(session->Call(PacketType::kLstat,
                                 [&](PacketWriter& w) { w.String(Path("missing")); })),
            -ENOENT);
  EXPECT_FALSE(session->broken());
}

TEST_F(SftpSessionTest, ManyPipelinedRequestsEachGetTheirOwnReply) {
  constexpr int kFiles = 200;
  for (int i = 0; i < kFiles; ++i) WriteFile("f" + std::to_string(i), static_cast<size_t>(i));
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  std::vector<PendingReply> replies;
  for (int i = 0; i < kFiles; ++i)
    replies.push_back(SendLstat(*session, Path("f" + std::to_string(i))));
  for (int i = kFiles - 1; i >= 0; --i) {  // awaited in the other order
    EXPECT_EQ(SizeOf(session->Await(replies[i])), i);
  }
}

TEST_F(SftpSessionTest, ThreadsSendingAtOnceEachGetTheirOwnReplies) {
  // Requests from many threads go through one writer at a time, whole and in order, each reply
  // reaching its own caller.
  constexpr int kThreads = 6;
  constexpr int kCallsPerThread = 40;
  WriteFile("big", 3);
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  std::atomic<int> right{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsPerThread; ++i) {
        const bool exists = (i + t) % 2 == 0;
        const SftpReply reply = session->Call(PacketType::kLstat, [&](PacketWriter& w) {
          w.String(Path(exists ? "big" : "missing" + std::to_string(t)));
        });
        if (SizeOf(reply) == (exists ? 3 : -ENOENT)) ++right;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(right.load(), kThreads * kCallsPerThread);
  EXPECT_FALSE(session->broken());
}

TEST_F(SftpSessionTest, RepliesInAnotherOrderReachTheirOwnRequests) {
  const std::vector<std::string> paths = {"/a", "/bb", "/ccc", "/dddd"};
  RawPeer peer([&](int fd) {
    if (!AnswerInit(fd)) return;
    std::vector<Request> requests;
    for (size_t i = 0; i < paths.size(); ++i) requests.push_back(ReadRequest(fd));
    for (auto it = requests.rbegin(); it != requests.rend(); ++it) {  // last asked, first answered
      FileAttributes attributes;
      attributes.flags = FileAttributes::kSize;
      attributes.size = it->path.size();
      SendBytes(
          fd,
          std::move(PacketWriter(PacketType::kAttrs).U32(it->id).Attributes(attributes)).Finish());
    }
  });
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(peer.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  std::vector<PendingReply> replies;
  for (const auto& path : paths) replies.push_back(SendLstat(*session, path));
  for (size_t i = 0; i < paths.size(); ++i) {
    EXPECT_EQ(SizeOf(session->Await(replies[i])), static_cast<int64_t>(paths[i].size()));
  }
  EXPECT_FALSE(session->broken());
}

TEST_F(SftpSessionTest, AServerThatDiesMidRequestFailsItWithEioAtOnce) {
  WriteFile("file", 1);
  SftpServerOnTcp server(root_);
  std::string error;
  // A long request timeout: the failure must come from the link going down, not the deadline.
  auto session = SftpSession::Connect(OptionsFor(server.port(), 30s), &error);
  ASSERT_NE(session, nullptr) << error;
  ASSERT_EQ(server.SignalSessions(SIGSTOP), 1);
  PendingReply pending = SendLstat(*session, Path("file"));  // the server holds it, unanswered
  ASSERT_EQ(pending.wait_for(100ms), std::future_status::timeout);
  const auto killed_at = Clock::now();
  server.SignalSessions(SIGKILL);
  const SftpReply reply = session->Await(pending);
  EXPECT_EQ(reply.Errno(PacketType::kAttrs), EIO);
  EXPECT_LT(Clock::now() - killed_at, 2s);
  EXPECT_TRUE(session->broken());
  // Later requests fail at once too.
  const auto later = Clock::now();
  EXPECT_EQ(
      SizeOf(session->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(Path("file")); })),
      -EIO);
  EXPECT_LT(Clock::now() - later, 100ms);
}

TEST_F(SftpSessionTest, AServerThatStopsAnsweringFailsEveryPendingRequestAtTheDeadline) {
  WriteFile("file", 1);
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port(), 500ms), &error);
  ASSERT_NE(session, nullptr) << error;
  ASSERT_EQ(server.SignalSessions(SIGSTOP), 1);  // the link stays up, nothing answers
  const auto sent_at = Clock::now();
  PendingReply first = SendLstat(*session, Path("file"));
  PendingReply second = SendLstat(*session, Path("file"));
  EXPECT_EQ(session->Await(first).Errno(PacketType::kAttrs), EIO);
  const auto took = Clock::now() - sent_at;
  EXPECT_GE(took, 450ms);
  EXPECT_LT(took, 2s);
  EXPECT_EQ(second.wait_for(100ms), std::future_status::ready) << "the other request hangs";
  EXPECT_EQ(second.get().Errno(PacketType::kAttrs), EIO);
  server.SignalSessions(SIGCONT);
}

TEST_F(SftpSessionTest, TheConnectionReconnectsAfterItsSessionBroke) {
  WriteFile("file", 3);
  SftpServerOnTcp server(root_);
  SftpConnection connection(OptionsFor(server.port()), 50ms);
  auto first = connection.Session();
  ASSERT_NE(first, nullptr);
  ASSERT_EQ(
      SizeOf(first->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(Path("file")); })), 3);
  server.SignalSessions(SIGKILL);
  ASSERT_TRUE(WaitFor([&] { return first->broken(); }, 2s)) << "the dead link went unnoticed";
  std::shared_ptr<SftpSession> second;
  ASSERT_TRUE(WaitFor([&] { return (second = connection.Session()) != nullptr; }, 2s));
  EXPECT_NE(second, first);
  EXPECT_EQ(
      SizeOf(second->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(Path("file")); })),
      3);
  EXPECT_EQ(server.sessions(), 2);
}

TEST_F(SftpSessionTest, CallersDuringAConnectionAttemptShareItsSession) {
  RawPeer peer([](int fd) {  // one connection only, and a slow handshake
    std::this_thread::sleep_for(300ms);
    if (!AnswerInit(fd)) return;
    char ignored;
    ::recv(fd, &ignored, 1, 0);
  });
  SftpConnection connection(OptionsFor(peer.port()));
  std::shared_ptr<SftpSession> sessions[4];
  std::vector<std::thread> callers;
  for (auto& session : sessions) {
    callers.emplace_back([&] { session = connection.Session(); });
  }
  for (auto& caller : callers) caller.join();
  for (const auto& session : sessions) {
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(session, sessions[0]);
  }
}

TEST_F(SftpSessionTest, WithTheServerGoneTheConnectionFailsFastWithAReason) {
  uint16_t port;
  {
    SftpServerOnTcp server(root_);
    port = server.port();
  }  // nothing listens there any more
  SftpConnection connection(OptionsFor(port), 50ms);
  std::string error;
  const auto asked_at = Clock::now();
  EXPECT_EQ(connection.Session(&error), nullptr);
  EXPECT_LT(Clock::now() - asked_at, 1s);
  EXPECT_NE(error.find(std::to_string(port)), std::string::npos) << error;
}

// Malformed replies from a hostile peer: each breaks the session (pending requests fail with
// EIO at once), never the process, never a hang.
struct MalformedReply {
  const char* name;
  std::function<std::vector<uint8_t>(uint32_t id)> bytes;
  bool then_close = false;  // the peer ends the connection after sending them
};
void PrintTo(const MalformedReply& reply, std::ostream* out) { *out << reply.name; }

class MalformedReplyTest : public SftpSessionTest,
                           public ::testing::WithParamInterface<MalformedReply> {};

TEST_P(MalformedReplyTest, BreaksTheSessionAndFailsThePendingRequest) {
  RawPeer peer([&](int fd) {
    if (!AnswerInit(fd)) return;
    const Request request = ReadRequest(fd);
    SendBytes(fd, GetParam().bytes(request.id));
    if (GetParam().then_close) {
      ::shutdown(fd, SHUT_WR);
      return;
    }
    char ignored;
    ::recv(fd, &ignored, 1, 0);  // keep the link up until the client gives up on it
  });
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(peer.port(), 30s), &error);
  ASSERT_NE(session, nullptr) << error;
  const auto sent_at = Clock::now();
  PendingReply pending = SendLstat(*session, "/x");
  const SftpReply reply = session->Await(pending);
  EXPECT_LT(Clock::now() - sent_at, 2s);
  EXPECT_NE(reply.Errno(PacketType::kAttrs), 0);
  EXPECT_TRUE(session->broken());
}

std::vector<uint8_t> Bytes(std::initializer_list<uint8_t> bytes) { return bytes; }

INSTANTIATE_TEST_SUITE_P(
    Hostile, MalformedReplyTest,
    ::testing::Values(MalformedReply{"LengthZero",
                                     [](uint32_t) {
                                       return Bytes({0, 0, 0, 0});
                                     }},
                      MalformedReply{"LengthBeyondTheLimit",
                                     [](uint32_t) {
                                       return Bytes({0xff, 0xff, 0xff, 0xff, 101});
                                     }},
                      MalformedReply{"TooShortForAnId",
                                     [](uint32_t) {
                                       return Bytes({0, 0, 0, 2, 101, 0});
                                     }},
                      MalformedReply{
                          "TruncatedThenClosed",
                          [](uint32_t id) {
                            auto bytes =
                                std::move(PacketWriter(PacketType::kAttrs).U32(id)).Finish();
                            bytes[3] += 100;  // announces more than ever comes
                            return bytes;
                          },
                          true}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(SftpSessionTest, AReplyOfTheWrongTypeIsAnErrorNotACrash) {
  RawPeer peer([&](int fd) {
    if (!AnswerInit(fd)) return;
    const Request request = ReadRequest(fd);
    SendBytes(fd, std::move(PacketWriter(PacketType::kHandle).U32(request.id)).Finish());
    ReadPacket(fd);
  });
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(peer.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  EXPECT_EQ(session->Call(PacketType::kLstat, [](PacketWriter& w) { w.String("/x"); })
                .Errno(PacketType::kAttrs),
            EBADMSG);
}

TEST_F(SftpSessionTest, APeerThatIsNotAnSftpServerIsRefusedWithAReason) {
  RawPeer peer([](int fd) {
    ReadPacket(fd);
    const std::string http = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    SendBytes(fd, std::vector<uint8_t>(http.begin(), http.end()));
    char ignored;
    ::recv(fd, &ignored, 1, 0);
  });
  std::string error;
  const auto asked_at = Clock::now();
  EXPECT_EQ(SftpSession::Connect(OptionsFor(peer.port()), &error), nullptr);
  EXPECT_LT(Clock::now() - asked_at, 2s);
  EXPECT_NE(error.find("SFTP"), std::string::npos) << error;
}

TEST_F(SftpSessionTest, ThePrefaceGoesFirstThenSftpWorks) {
  WriteFile("file", 7);
  SftpServerOnTcp server(root_, /*with_preface=*/true);
  std::string error;
  const auto token = NewSecretToken(error);
  ASSERT_TRUE(token.has_value()) << error;
  SessionOptions options = OptionsFor(server.port());
  options.token = *token;
  auto session = SftpSession::Connect(options, &error);
  ASSERT_NE(session, nullptr) << error;
  // The first bytes on the wire were exactly the preface: the INIT came after it, since the
  // server behind it answered.
  EXPECT_EQ(server.prefaces(), std::vector<std::string>{SftpPreface(*token)});
  EXPECT_EQ(
      SizeOf(session->Call(PacketType::kLstat, [&](PacketWriter& w) { w.String(Path("file")); })),
      7);
}

// An OPEN sent with TransmitOpen and a READ of its predicted handle riding along.
struct OpenWithRead {
  PendingReply opened;
  PendingReply read;
  std::optional<std::string> predicted;
};
OpenWithRead OpenAndRead(SftpSession& session, const std::string& path) {
  OpenWithRead result;
  SftpSession::Outgoing open;
  result.opened = session.Prepare(
      PacketType::kOpen,
      [&](PacketWriter& w) { w.String(path).U32(OpenFlagsFromPosix(O_RDONLY)).Attributes({}); },
      &open);
  result.predicted = session.TransmitOpen(
      open, {}, [&](const std::string& handle, std::vector<SftpSession::Outgoing>* follow) {
        result.read = session.Prepare(
            PacketType::kRead, [&](PacketWriter& w) { w.String(handle).U64(0).U32(100); },
            &follow->emplace_back());
      });
  return result;
}
std::string HandleOf(SftpReply reply) {
  return reply.Errno(PacketType::kHandle) == 0 ? reply.Payload().String() : "";
}
std::string DataOf(SftpReply reply) {
  return reply.Errno(PacketType::kData) == 0 ? reply.Payload().String() : "";
}

TEST_F(SftpSessionTest, AReadThatRidesWithAnOpenNamesTheHandleTheServerGivesIt) {
  for (const std::string name : {"a", "b", "c", "d"}) {
    std::ofstream(root_ / name) << "contents of " << name;
  }
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  std::map<std::string, std::string> handles;
  for (const std::string name : {"a", "b", "c"}) {
    OpenWithRead open = OpenAndRead(*session, Path(name));
    handles[name] = HandleOf(session->Await(open.opened));
    if (name == "a") {
      EXPECT_FALSE(open.predicted.has_value()) << "the first answer confirms the model";
      continue;
    }
    ASSERT_TRUE(open.predicted.has_value()) << "no prediction for " << name;
    EXPECT_EQ(handles[name], *open.predicted) << name;
    EXPECT_EQ(DataOf(session->Await(open.read)), "contents of " + name);
  }
  // A closed handle is the next one given, even while its CLOSE is still in flight.
  session->Send(PacketType::kClose, [&](PacketWriter& w) { w.String(handles["b"]); });
  OpenWithRead reopened = OpenAndRead(*session, Path("d"));
  EXPECT_EQ(reopened.predicted, handles["b"]);
  EXPECT_EQ(HandleOf(session->Await(reopened.opened)), handles["b"]);
  EXPECT_EQ(DataOf(session->Await(reopened.read)), "contents of d");
}

TEST_F(SftpSessionTest, AnOpenThatFailsInFlightMisleadsOnlyTheOpensBehindIt) {
  std::ofstream(root_ / "present") << "here";
  SftpServerOnTcp server(root_);
  std::string error;
  auto session = SftpSession::Connect(OptionsFor(server.port()), &error);
  ASSERT_NE(session, nullptr) << error;
  OpenWithRead first = OpenAndRead(*session, Path("present"));  // confirms the model
  ASSERT_FALSE(HandleOf(session->Await(first.opened)).empty());
  // The server is stopped while both opens go out: the failing one is surely in flight when
  // the second is predicted.
  ASSERT_EQ(server.SignalSessions(SIGSTOP), 1);
  OpenWithRead missing = OpenAndRead(*session, Path("missing"));
  OpenWithRead present = OpenAndRead(*session, Path("present"));
  server.SignalSessions(SIGCONT);
  EXPECT_EQ(session->Await(missing.opened).Errno(PacketType::kHandle), ENOENT);
  const std::string given = HandleOf(session->Await(present.opened));
  ASSERT_FALSE(given.empty());
  // It was predicted to get the handle after the failed open's: its READ went elsewhere, which
  // the caller sees by comparing, and no data of another file came back under its name.
  EXPECT_NE(present.predicted, given);
  EXPECT_NE(DataOf(session->Await(present.read)), "here");
  // The model knows the table again: the next prediction holds.
  OpenWithRead again = OpenAndRead(*session, Path("present"));
  EXPECT_EQ(again.predicted, HandleOf(session->Await(again.opened)));
  EXPECT_EQ(DataOf(session->Await(again.read)), "here");
}

}  // namespace
}  // namespace tp::sftp
