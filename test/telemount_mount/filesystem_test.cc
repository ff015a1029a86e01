// File-system tests: a real OpenSSH sftp-server behind sftp-export on a free loopback port, a
// real `telemount mount` process, real FUSE. Each test checks what a user of the mount sees and
// compares with the server's own folder.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "sync/mutex.h"

extern char** environ;

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// Polls `condition` until it holds or `timeout` passes; returns whether it held.
template <typename Condition>
bool WaitFor(Condition condition, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(10ms);
  }
  return true;
}

// A child process, killed and reaped when destroyed.
class ChildProcess {
 public:
  // With `output`, the child's stdout and stderr go to output->first and output->second.
  explicit ChildProcess(const std::vector<std::string>& argv,
                        const std::vector<std::string>& extra_environment = {},
                        const std::optional<std::pair<fs::path, fs::path>>& output = {}) {
    std::vector<std::string> environment(extra_environment);
    for (char** entry = environ; *entry != nullptr; ++entry) environment.emplace_back(*entry);
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    for (const auto& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
    args.push_back(nullptr);
    envp.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    if (output) {
      constexpr int kFlags = O_WRONLY | O_CREAT | O_TRUNC;
      posix_spawn_file_actions_addopen(&actions, 1, output->first.c_str(), kFlags, 0600);
      posix_spawn_file_actions_addopen(&actions, 2, output->second.c_str(), kFlags, 0600);
    }
    if (posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), envp.data()) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~ChildProcess() {
    if (pid_ > 0 && !exit_status_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void Signal(int signal) { ::kill(pid_, signal); }
  // The exit status once the process has ended within `timeout`.
  std::optional<int> WaitExit(std::chrono::milliseconds timeout) {
    WaitFor(
        [&] {
          int status = 0;
          if (::waitpid(pid_, &status, WNOHANG) == pid_) exit_status_ = status;
          return exit_status_.has_value();
        },
        timeout);
    return exit_status_;
  }

 private:
  pid_t pid_ = -1;
  std::optional<int> exit_status_;
};

bool IsMounted(const std::string& mountpoint) {
  std::ifstream mountinfo("/proc/self/mountinfo");
  for (std::string line; std::getline(mountinfo, line);) {
    if (line.find(" " + mountpoint + " ") != std::string::npos &&
        line.find("fuse.telemount") != std::string::npos) {
      return true;
    }
  }
  return false;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

void WriteFile(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Sends `signal` to every sftp-server session serving `root` (found in /proc, never by a shell
// pattern that could match the shell itself). Returns how many got it.
int SignalSessions(const fs::path& root, int signal) {
  int count = 0;
  for (const auto& process : fs::directory_iterator("/proc")) {
    const std::string pid = process.path().filename();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string command_line = ReadFile(process.path() / "cmdline");
    std::replace(command_line.begin(), command_line.end(), '\0', ' ');
    if (command_line.starts_with("/usr/lib/openssh/sftp-server -d " + root.string() + " ")) {
      count += ::kill(std::stoi(pid), signal) == 0;
    }
  }
  return count;
}

// An SFTP export of a temporary folder, mounted with `telemount mount`.
class MountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() /
            ("telemount-fs-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    root_ = base_ / "server";
    mountpoint_ = base_ / "mnt";
    fs::create_directories(root_);
    fs::create_directories(mountpoint_);
    StartServer("127.0.0.1:0");
    ASSERT_GT(port_, 0) << "sftp-export did not start";
  }

  void TearDown() override {
    Unmount();
    server_.reset();
    ::umount2(mountpoint_.c_str(), MNT_DETACH);
    std::error_code ignored;
    fs::remove_all(base_, ignored);
  }

  void StartServer(const std::string& listen) {
    const fs::path port_file = base_ / "port";
    fs::remove(port_file);
    server_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{SFTP_EXPORT_BINARY, "--root", root_.string(), "--listen", listen,
                                 "--port-file", port_file.string()});
    ASSERT_TRUE(WaitFor([&] { return fs::exists(port_file); }, 5s)) << "no port file";
    port_ = std::stoi(ReadFile(port_file));
  }

  void Mount(const std::vector<std::string>& options = {}) {
    std::vector<std::string> argv = {
        TELEMOUNT_BINARY, "mount",
        server_host_ + ":" + std::to_string(port_) + ":" + root_.string(), mountpoint_.string()};
    argv.insert(argv.end(), options.begin(), options.end());
    mount_ = std::make_unique<ChildProcess>(
        argv, std::vector<std::string>{"TELEMOUNT_REQUEST_TIMEOUT=3"},
        std::make_pair(base_ / "mount.out", base_ / "mount.err"));
    ASSERT_TRUE(WaitFor([&] { return IsMounted(mountpoint_.string()); }, 5s))
        << "telemount did not mount";
  }

  void Unmount() {
    if (!mount_) return;
    mount_->Signal(SIGTERM);
    EXPECT_TRUE(mount_->WaitExit(10s).has_value()) << "telemount did not exit on SIGTERM";
    mount_.reset();
  }

  fs::path Server(const std::string& name) const { return root_ / name; }
  fs::path Mounted(const std::string& name) const { return mountpoint_ / name; }

  static inline int counter_ = 0;
  fs::path base_, root_, mountpoint_;
  int port_ = 0;
  std::string server_host_ = "127.0.0.1";  // as `telemount mount` is given it
  std::unique_ptr<ChildProcess> server_;
  std::unique_ptr<ChildProcess> mount_;
};

TEST_F(MountTest, ReadsServerFilesAndListsFolders) {
  WriteFile(Server("hello.txt"), "hello from the server\n");
  fs::create_directories(Server("sub/deeper"));
  WriteFile(Server("sub/deeper/x"), "x");
  Mount();
  EXPECT_EQ(ReadFile(Mounted("hello.txt")), "hello from the server\n");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(mountpoint_)) {
    names.push_back(entry.path().filename());
  }
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"hello.txt", "sub"}));
  EXPECT_TRUE(fs::is_directory(Mounted("sub/deeper")));
  // `ls -a` shows the dot entries, as on any local folder.
  std::vector<std::string> all;
  DIR* directory = ::opendir(mountpoint_.c_str());
  ASSERT_NE(directory, nullptr);
  while (dirent* entry = ::readdir(directory)) all.push_back(entry->d_name);
  ::closedir(directory);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{".", "..", "hello.txt", "sub"}));
  EXPECT_EQ(fs::file_size(Mounted("sub/deeper/x")), 1u);
}

TEST_F(MountTest, AServerOnIpv6LoopbackServesTheMount) {
  StartServer("[::1]:0");  // in place of the fixture's IPv4 one
  ASSERT_GT(port_, 0) << "sftp-export did not start on [::1]";
  server_host_ = "[::1]";
  WriteFile(Server("six.txt"), "over IPv6\n");
  Mount();
  EXPECT_EQ(ReadFile(Mounted("six.txt")), "over IPv6\n");
  WriteFile(Mounted("written"), "back over IPv6");
  EXPECT_EQ(ReadFile(Server("written")), "back over IPv6");
}

TEST_F(MountTest, LargeFolderListsEveryEntryWithItsAttributes) {
  fs::create_directories(Server("many"));
  for (int i = 0; i < 2500; ++i)
    WriteFile(Server("many/f" + std::to_string(i)), std::string(i % 7, 'x'));
  Mount();
  size_t count = 0;
  for (const auto& entry : fs::directory_iterator(Mounted("many"))) {
    const int number = std::stoi(entry.path().filename().string().substr(1));
    EXPECT_EQ(entry.file_size(), static_cast<uintmax_t>(number % 7)) << entry.path();
    ++count;
  }
  EXPECT_EQ(count, 2500u);
}

TEST_F(MountTest, ARewoundFolderListsEveryEntryAgain) {
  fs::create_directories(Server("folder"));
  for (int i = 0; i < 150; ++i) WriteFile(Server("folder/f" + std::to_string(i)), "x");
  Mount();
  DIR* directory = ::opendir(Mounted("folder").c_str());
  ASSERT_NE(directory, nullptr);
  const auto names = [&] {
    std::set<std::string> seen;
    while (dirent* entry = ::readdir(directory)) seen.insert(entry->d_name);
    return seen;
  };
  EXPECT_EQ(names().size(), 152u) << "150 files and the dot entries";
  WriteFile(Server("folder/made-meanwhile"), "y");
  ::rewinddir(directory);
  const std::set<std::string> again = names();
  ::closedir(directory);
  EXPECT_EQ(again.size(), 153u) << "rewinddir lists the folder as it is now";
  EXPECT_EQ(again.count("made-meanwhile"), 1u);
}

TEST_F(MountTest, ReadersOfManySmallFilesAtOnceEachGetTheirOwnFile) {
  // Each open's first READ travels with it, naming the handle the server is predicted to give;
  // opens that fail on the way (missing files, in other threads) make some predictions wrong.
  // Whatever the interleaving, every read gets its own file's bytes.
  constexpr int kFiles = 120;
  for (int i = 0; i < kFiles; ++i)
    WriteFile(Server("f" + std::to_string(i)), "file " + std::to_string(i));
  fs::create_directories(Server("folders/a"));
  Mount();
  std::atomic<int> wrong{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 6; ++t) {
    readers.emplace_back([&, t] {
      for (int round = 0; round < 3; ++round) {
        for (int i = t; i < kFiles; i += 2) {
          if (ReadFile(Mounted("f" + std::to_string(i))) != "file " + std::to_string(i)) ++wrong;
          // A failed open, and now and then a folder listed, between the reads.
          const int fd = ::open(Mounted("missing" + std::to_string(i)).c_str(), O_RDONLY);
          if (fd >= 0) ::close(fd);
          if (i % 10 == 0 && fs::is_empty(Mounted("folders"))) ++wrong;
        }
      }
    });
  }
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(MountTest, FilesMadeOnTheServerShowUpWithinTheCacheTime) {
  fs::create_directories(Server("shared"));
  Mount();
  // Two lookups in vain make the mount remember the folder's list of names...
  EXPECT_FALSE(fs::exists(Mounted("shared/missing1")));
  EXPECT_FALSE(fs::exists(Mounted("shared/missing2")));
  // ...which must not hide a file another client makes there for longer than the cache time.
  WriteFile(Server("shared/late"), "late");
  EXPECT_TRUE(WaitFor([&] { return fs::exists(Mounted("shared/late")); }, 2500ms));
  // Our own creates and removals are visible at once.
  WriteFile(Mounted("shared/own"), "own");
  EXPECT_EQ(ReadFile(Mounted("shared/own")), "own");
  fs::remove(Mounted("shared/own"));
  EXPECT_FALSE(fs::exists(Mounted("shared/own")));
  fs::create_directories(Mounted("shared/newdir"));
  WriteFile(Mounted("shared/newdir/inside"), "in");
  EXPECT_EQ(ReadFile(Server("shared/newdir/inside")), "in");
}

TEST_F(MountTest, CachedAttributesGiveWayToTheServersAtEachOpen) {
  // Attributes and names are cached for 20 s (as sshfs's), far past the kernel's 1 s.
  fs::create_directories(Server("kept"));
  WriteFile(Server("kept/removed"), "soon gone");
  WriteFile(Server("kept/grown"), "short");
  WriteFile(Server("kept/shrunk"), "long enough to shrink");
  Mount();
  ASSERT_EQ(ReadFile(Mounted("kept/removed")), "soon gone");
  ASSERT_EQ(ReadFile(Mounted("kept/grown")), "short");
  ASSERT_EQ(ReadFile(Mounted("kept/shrunk")), "long enough to shrink");
  fs::remove(Server("kept/removed"));
  WriteFile(Server("kept/grown"), "much longer than before");
  WriteFile(Server("kept/shrunk"), "short");
  // Close-to-open: a file changed on the server reads as it is now at its next open, although
  // the kernel still had the old size.
  EXPECT_EQ(ReadFile(Mounted("kept/grown")), "much longer than before");
  EXPECT_EQ(ReadFile(Mounted("kept/shrunk")), "short");
  EXPECT_EQ(fs::file_size(Mounted("kept/grown")), 23u);
  // A name removed on the server fails to open at once, and stat follows within the kernel's
  // attribute time.
  const int fd = ::open(Mounted("kept/removed").c_str(), O_RDONLY);
  const int open_errno = errno;
  if (fd >= 0) ::close(fd);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(open_errno, ENOENT);
  EXPECT_TRUE(WaitFor([&] { return !fs::exists(Mounted("kept/removed")); }, 2500ms));
}

TEST_F(MountTest, WritesAppendsAndTruncatesLandOnTheServer) {
  Mount();
  WriteFile(Mounted("new.txt"), "first line\n");
  EXPECT_EQ(ReadFile(Server("new.txt")), "first line\n");
  {
    std::ofstream out(Mounted("new.txt"), std::ios::app);
    out << "second line\n";
  }
  EXPECT_EQ(ReadFile(Server("new.txt")), "first line\nsecond line\n");
  fs::resize_file(Mounted("new.txt"), 5);
  EXPECT_EQ(ReadFile(Server("new.txt")), "first");
  EXPECT_EQ(ReadFile(Mounted("new.txt")), "first");
  int fd = ::open(Mounted("new.txt").c_str(), O_WRONLY | O_TRUNC);
  ASSERT_GE(fd, 0);
  ::close(fd);
  EXPECT_EQ(fs::file_size(Server("new.txt")), 0u);
}

TEST_F(MountTest, RenameReplacesAnExistingFile) {
  Mount();
  WriteFile(Mounted("a"), "new content");
  WriteFile(Mounted("b"), "old content");
  fs::rename(Mounted("a"), Mounted("b"));
  EXPECT_FALSE(fs::exists(Server("a")));
  EXPECT_EQ(ReadFile(Server("b")), "new content");
  EXPECT_EQ(ReadFile(Mounted("b")), "new content");
  fs::create_directories(Mounted("dir1"));
  fs::rename(Mounted("dir1"), Mounted("dir2"));
  EXPECT_TRUE(fs::is_directory(Server("dir2")));
}

TEST_F(MountTest, RenameOfFolderOverNonEmptyFolderFailsWithEnotempty) {
  Mount();
  fs::create_directories(Mounted("from"));
  fs::create_directories(Mounted("to"));
  WriteFile(Mounted("to/keep"), "k");
  EXPECT_EQ(::rename(Mounted("from").c_str(), Mounted("to").c_str()), -1);
  EXPECT_TRUE(errno == ENOTEMPTY || errno == EEXIST) << std::strerror(errno);
  EXPECT_EQ(ReadFile(Server("to/keep")), "k");
}

TEST_F(MountTest, UnlinkedOpenFileStaysReadable) {
  WriteFile(Server("doomed"), "still here");
  Mount();
  int fd = ::open(Mounted("doomed").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::unlink(Mounted("doomed").c_str()), 0);
  EXPECT_FALSE(fs::exists(Server("doomed")));
  EXPECT_FALSE(fs::exists(Mounted("doomed")));
  char buffer[32] = {};
  EXPECT_EQ(::pread(fd, buffer, sizeof(buffer), 0), 10);
  EXPECT_STREQ(buffer, "still here");
  ::close(fd);
}

TEST_F(MountTest, FolderErrorsMatchPosix) {
  Mount();
  fs::create_directories(Mounted("full"));
  WriteFile(Mounted("full/file"), "x");
  EXPECT_EQ(::rmdir(Mounted("full").c_str()), -1);
  EXPECT_EQ(errno, ENOTEMPTY);
  EXPECT_EQ(::mkdir(Mounted("full").c_str(), 0755), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(::rmdir(Mounted("missing").c_str()), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::open(Mounted("missing/file").c_str(), O_RDONLY), -1);
  EXPECT_EQ(errno, ENOENT);
  EXPECT_EQ(::open(Mounted("full/file").c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644), -1);
  EXPECT_EQ(errno, EEXIST);
  EXPECT_EQ(::unlink(Mounted("full").c_str()), -1);
  EXPECT_EQ(errno, EISDIR);
  ASSERT_EQ(::unlink(Mounted("full/file").c_str()), 0);
  EXPECT_EQ(::rmdir(Mounted("full").c_str()), 0);
  EXPECT_FALSE(fs::exists(Server("full")));
}

TEST_F(MountTest, SymlinksAndHardlinks) {
  WriteFile(Server("target"), "pointed at");
  Mount();
  ASSERT_EQ(::symlink("target", Mounted("link").c_str()), 0);
  EXPECT_EQ(fs::read_symlink(Server("link")), "target");
  EXPECT_EQ(fs::read_symlink(Mounted("link")), "target");
  EXPECT_EQ(ReadFile(Mounted("link")), "pointed at");
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(Mounted("link"))));
  ASSERT_EQ(::link(Mounted("target").c_str(), Mounted("hard").c_str()), 0);
  struct stat server_stat;
  ASSERT_EQ(::stat(Server("hard").c_str(), &server_stat), 0);
  EXPECT_EQ(server_stat.st_nlink, 2u);
}

// The attack: a remote folder whose path holds a link to "/" (any link the server likes). Through
// the plain view the host follows it out of the mount (that path is what dockerd used to get);
// through the volume root it stays a folder of this mount, resolved by the server.
TEST_F(MountTest, AVolumeRootNeverLeadsOutOfTheMountWhateverTheServersLinks) {
  fs::create_directories(Server("vol/data"));
  WriteFile(Server("vol/data/marker"), "the server's folder");
  fs::create_symlink("/", Server("vol/escape"));
  fs::create_symlink("data", Server("vol/relative"));
  Mount();
  struct stat mount_root {};
  ASSERT_EQ(::stat(mountpoint_.c_str(), &mount_root), 0);
  const fs::path plain = Mounted("vol/escape");
  EXPECT_EQ(fs::canonical(plain), "/") << "the plain view follows the server's link out";

  const fs::path root = mountpoint_ / ".telemount-volumes" / "%2Fvol%2Fescape";
  struct stat volume {};
  ASSERT_EQ(::lstat(root.c_str(), &volume), 0) << std::strerror(errno);
  EXPECT_TRUE(S_ISDIR(volume.st_mode)) << "a folder, never a link";
  EXPECT_EQ(volume.st_dev, mount_root.st_dev) << "on this mount";
  EXPECT_EQ(fs::canonical(root), root) << "no link on the way";
  // (This server is not confined: it resolves "/" to its own root, the same machine's.)
  EXPECT_TRUE(fs::is_directory(root / "etc")) << "the server's resolution of the link";

  const fs::path relative = mountpoint_ / ".telemount-volumes" / "%2Fvol%2Frelative";
  EXPECT_EQ(ReadFile(relative / "marker"), "the server's folder");
  WriteFile(relative / "written", "through the volume root");
  EXPECT_EQ(ReadFile(Server("vol/data/written")), "through the volume root");

  WriteFile(Server("vol/file"), "not a folder");
  const fs::path file_root = mountpoint_ / ".telemount-volumes" / "%2Fvol%2Ffile";
  EXPECT_NE(::lstat(file_root.c_str(), &volume), 0);
  EXPECT_EQ(errno, ENOTDIR);
}

TEST_F(MountTest, TheVolumesFolderCannotBeListedOrChanged) {
  fs::create_directories(Server("vol"));
  Mount();
  const fs::path hidden = mountpoint_ / ".telemount-volumes";
  EXPECT_TRUE(fs::is_directory(hidden));
  EXPECT_EQ(::opendir(hidden.c_str()), nullptr);
  EXPECT_EQ(errno, EACCES);
  EXPECT_NE(::mkdir((hidden / "new").c_str(), 0755), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::rmdir((hidden / "%2Fvol").c_str()), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_NE(::rename((hidden / "%2Fvol").c_str(), Mounted("moved").c_str()), 0);
  EXPECT_EQ(errno, EPERM);
  EXPECT_TRUE(fs::is_directory(Server("vol")));
  EXPECT_NE(::chmod(hidden.c_str(), 0777), 0);
  // The plain listing of the mount does not show it.
  for (const auto& entry : fs::directory_iterator(mountpoint_)) {
    EXPECT_NE(entry.path().filename(), ".telemount-volumes");
  }
}

// The mount (run as root, the server's login is root) lets other users in: each gets what the
// files' modes give it, not root's rights through the server.
TEST_F(MountTest, OtherUsersGetWhatTheModesGiveThemNotTheServersLogin) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root: the mount lets other users in only then";
  WriteFile(Server("private"), "root's secret");
  ASSERT_EQ(::chmod(Server("private").c_str(), 0600), 0);
  WriteFile(Server("public"), "for everyone");
  ASSERT_EQ(::chmod(Server("public").c_str(), 0644), 0);
  ASSERT_EQ(::chmod(root_.c_str(), 0755), 0);
  ASSERT_EQ(::chmod(base_.c_str(), 0755), 0);
  Mount();
  // As "nobody", in a child: 0 when the read worked, else the errno.
  auto read_as_nobody = [](const fs::path& path) {
    const pid_t child = ::fork();
    if (child == 0) {
      if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0) {
        ::_exit(254);
      }
      const int fd = ::open(path.c_str(), O_RDONLY);
      char byte;
      ::_exit(fd >= 0 && ::read(fd, &byte, 1) == 1 ? 0 : errno);
    }
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  };
  EXPECT_EQ(read_as_nobody(Mounted("public")), 0);
  EXPECT_EQ(read_as_nobody(Mounted("private")), EACCES) << "root's file, mode 0600";
  EXPECT_EQ(ReadFile(Mounted("private")), "root's secret") << "root still reads it";
}

TEST_F(MountTest, PermissionsAndModificationTimes) {
  Mount();
  WriteFile(Mounted("script"), "#!/bin/sh\n");
  ASSERT_EQ(::chmod(Mounted("script").c_str(), 0751), 0);
  struct stat st;
  ASSERT_EQ(::stat(Server("script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  ASSERT_EQ(::stat(Mounted("script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);

  const timespec times[2] = {{1600000000, 0}, {1500000000, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, Mounted("script").c_str(), times, 0), 0);
  ASSERT_EQ(::stat(Server("script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_atim.tv_sec, 1600000000);
  ASSERT_EQ(::stat(Mounted("script").c_str(), &st), 0);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);

  fs::create_directories(Mounted("d"));
  ASSERT_EQ(::chmod(Mounted("d").c_str(), 0700), 0);
  ASSERT_EQ(::stat(Server("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
}

TEST_F(MountTest, LargeFileRandomWritesAndReadsMatchTheServerByteForByte) {
  constexpr size_t kSize = 24 << 20;
  std::mt19937_64 random(42);
  std::string content(kSize, '\0');
  for (auto& byte : content) byte = static_cast<char>(random());
  WriteFile(Server("big"), content);
  Mount();
  EXPECT_EQ(ReadFile(Mounted("big")), content) << "sequential read differs";

  int fd = ::open(Mounted("big").c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  for (int i = 0; i < 200; ++i) {
    const size_t offset = random() % (kSize - 300000);
    const size_t length = 1 + random() % 300000;
    std::string patch(length, '\0');
    for (auto& byte : patch) byte = static_cast<char>(random());
    ASSERT_EQ(::pwrite(fd, patch.data(), length, static_cast<off_t>(offset)),
              static_cast<ssize_t>(length));
    content.replace(offset, length, patch);
    // Read back another random range through the same descriptor.
    const size_t read_offset = random() % (kSize - 200000);
    const size_t read_length = 1 + random() % 200000;
    std::string got(read_length, '\0');
    ASSERT_EQ(::pread(fd, got.data(), read_length, static_cast<off_t>(read_offset)),
              static_cast<ssize_t>(read_length));
    ASSERT_EQ(got, content.substr(read_offset, read_length)) << "at " << read_offset;
  }
  // Growing the file past its end.
  ASSERT_EQ(::pwrite(fd, "tail", 4, static_cast<off_t>(kSize + 100)), 4);
  content.resize(kSize + 100, '\0');
  content += "tail";
  ASSERT_EQ(::fsync(fd), 0);
  ASSERT_EQ(::close(fd), 0);
  EXPECT_TRUE(ReadFile(Server("big")) == content) << "server copy differs";
  EXPECT_TRUE(ReadFile(Mounted("big")) == content) << "mounted copy differs";
}

TEST_F(MountTest, StatfsReportsTheServerFileSystem) {
  Mount();
  struct statvfs mounted, server;
  ASSERT_EQ(::statvfs(mountpoint_.c_str(), &mounted), 0);
  ASSERT_EQ(::statvfs(root_.c_str(), &server), 0);
  EXPECT_EQ(mounted.f_blocks * mounted.f_frsize, server.f_blocks * server.f_frsize);
}

TEST_F(MountTest, ReadOnlyMountRefusesWrites) {
  WriteFile(Server("file"), "data");
  Mount({"-o", "ro"});
  EXPECT_EQ(ReadFile(Mounted("file")), "data");
  EXPECT_EQ(::open(Mounted("file").c_str(), O_WRONLY), -1);
  EXPECT_EQ(errno, EROFS);
  EXPECT_EQ(::mkdir(Mounted("d").c_str(), 0755), -1);
  EXPECT_EQ(errno, EROFS);
}

TEST_F(MountTest, ExternalUnmountEndsTheProcess) {
  Mount();
  ASSERT_EQ(std::system(("fusermount3 -u " + mountpoint_.string()).c_str()), 0);
  auto status = mount_->WaitExit(5s);
  ASSERT_TRUE(status.has_value()) << "telemount kept running after fusermount3 -u";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  mount_.reset();
  EXPECT_FALSE(IsMounted(mountpoint_.string()));
  // Info lines go to stdout (dockerd would log stderr as errors), and no signal is claimed.
  const std::string out = ReadFile(base_ / "mount.out");
  EXPECT_NE(out.find(" info mounted "), std::string::npos) << out;
  EXPECT_NE(out.find(" info unmounted "), std::string::npos) << out;
  EXPECT_EQ(out.find("signal"), std::string::npos) << out;
  EXPECT_EQ(ReadFile(base_ / "mount.err"), "");
}

TEST_F(MountTest, SigtermSaysItUnmountsOnTheSignal) {
  Mount();
  Unmount();
  EXPECT_NE(ReadFile(base_ / "mount.out").find(" info signal 15: unmounting"), std::string::npos)
      << ReadFile(base_ / "mount.out");
}

TEST_F(MountTest, SigtermUnmountsEvenWithABusyMount) {
  WriteFile(Server("held"), "held open");
  Mount();
  int fd = ::open(Mounted("held").c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  mount_->Signal(SIGTERM);
  auto status = mount_->WaitExit(10s);
  ::close(fd);
  ASSERT_TRUE(status.has_value()) << "telemount did not exit with a file held open";
  mount_.reset();
  EXPECT_FALSE(IsMounted(mountpoint_.string()));
}

TEST_F(MountTest, ServerKilledDuringReadGivesEioFastThenRecovers) {
  constexpr size_t kSize = 256 << 20;
  {
    std::ofstream out(Server("huge"), std::ios::binary);
    std::string block(1 << 20, 'z');
    for (size_t i = 0; i < kSize / block.size(); ++i) out << block;
  }
  WriteFile(Server("small"), "small file");
  Mount();
  const std::string listen = "127.0.0.1:" + std::to_string(port_);

  // A reader that keeps reading the large file, reopening it, until an error stops it.
  std::atomic<bool> reading{true};
  std::atomic<int> read_errno{0};
  std::atomic<Clock::rep> failed_at{0};
  std::atomic<long> bytes_read{0};
  std::thread reader([&] {
    std::vector<char> buffer(1 << 20);
    while (reading) {
      int fd = ::open(Mounted("huge").c_str(), O_RDONLY);
      if (fd < 0) {
        read_errno = errno;
        break;
      }
      ssize_t n = 0;
      while (reading && (n = ::read(fd, buffer.data(), buffer.size())) > 0) bytes_read += n;
      if (n < 0) {
        read_errno = errno;
        failed_at = Clock::now().time_since_epoch().count();
        ::close(fd);
        break;
      }
      ::close(fd);
    }
  });
  ASSERT_TRUE(WaitFor([&] { return bytes_read > (8 << 20); }, 10s)) << "reader never started";
  const auto killed_at = Clock::now();
  server_->Signal(SIGKILL);
  server_->WaitExit(2s);
  // The sessions die with sftp-export (parent-death signal); make sure the link really goes.
  SignalSessions(root_, SIGKILL);
  const bool failed = WaitFor([&] { return read_errno != 0; }, 6s);
  reading = false;
  reader.join();
  ASSERT_TRUE(failed) << "read did not fail after the server died";
  EXPECT_EQ(read_errno, EIO);
  const auto took = Clock::time_point(Clock::duration(failed_at.load())) - killed_at;
  EXPECT_LT(took, 5s) << "EIO took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";

  // New operations fail fast while the server is away...
  const auto before = Clock::now();
  EXPECT_EQ(::open(Mounted("small").c_str(), O_RDONLY), -1);
  EXPECT_LT(Clock::now() - before, 5s);

  // ...and work again within 2 s of its return, on the same port, with no user action.
  StartServer(listen);
  const auto restarted_at = Clock::now();
  EXPECT_TRUE(WaitFor([&] { return ReadFile(Mounted("small")) == "small file"; }, 2s))
      << "mount did not recover within 2 s";
  EXPECT_LT(Clock::now() - restarted_at, 2500ms);
  Unmount();
  EXPECT_FALSE(IsMounted(mountpoint_.string()));
}

TEST_F(MountTest, ServerThatStopsAnsweringGivesEioWithinTheDeadline) {
  WriteFile(Server("before"), "before");
  WriteFile(Server("after"), "after");
  Mount();
  ASSERT_EQ(ReadFile(Mounted("before")), "before");
  // Freeze the server's session: the link stays up but nothing answers (a black hole).
  ASSERT_EQ(SignalSessions(root_, SIGSTOP), 1);
  const auto frozen_at = Clock::now();
  const int fd = ::open(Mounted("after").c_str(), O_RDONLY);
  const int open_errno = errno;
  const auto took = Clock::now() - frozen_at;
  SignalSessions(root_, SIGCONT);
  EXPECT_EQ(fd, -1);
  EXPECT_EQ(open_errno, EIO);
  EXPECT_LT(took, 5s) << "open took "
                      << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                      << " ms";
  // The mount gave up on that connection and opens a new one on its own.
  EXPECT_TRUE(WaitFor([&] { return ReadFile(Mounted("after")) == "after"; }, 2s));
}

// What a writer sees right after each of its changes returned, while readers (listings, stats,
// reads through a handle kept open and through fresh opens) keep the caches filling: never what
// was there before the change.
class RaceTest : public MountTest {
 protected:
  // Records a violation (at most a few are kept, all are counted).
  void Violation(const std::string& what) {
    tp::MutexLock lock(violations_mutex_);
    if (violations_.size() < 5) violations_.push_back(what);
    ++violation_count_;
  }
  void ExpectSize(const fs::path& path, off_t size, const std::string& after) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      Violation(after + ": stat " + path.filename().string() + " failed: " + std::strerror(errno));
    } else if (st.st_size != size) {
      Violation(after + ": stat " + path.filename().string() + " gave size " +
                std::to_string(st.st_size) + ", not " + std::to_string(size));
    }
  }
  void ExpectAbsent(const fs::path& path, const std::string& after) {
    struct stat st {};
    if (::stat(path.c_str(), &st) == 0) {
      Violation(after + ": " + path.filename().string() + " still there");
    }
  }
  void ExpectContent(int fd, const std::string& content, const std::string& after) {
    std::string read_back(content.size() + 16, '\0');
    const ssize_t n = ::pread(fd, read_back.data(), read_back.size(), 0);
    read_back.resize(n < 0 ? 0 : static_cast<size_t>(n));
    if (read_back != content) {
      Violation(after + ": read " + std::to_string(read_back.size()) + " bytes, not the " +
                std::to_string(content.size()) + " written");
    }
  }

  tp::Mutex violations_mutex_;
  std::vector<std::string> violations_ GUARDED_BY(violations_mutex_);
  int violation_count_ GUARDED_BY(violations_mutex_) = 0;
};

TEST_F(RaceTest, ReadsRacingWritesNeverShowOldDataAfterTheWriteReturned) {
  // Enough entries that a listing takes several round trips, so that fills overlap changes.
  fs::create_directories(Server("race"));
  for (int i = 0; i < 400; ++i) WriteFile(Server("race/entry" + std::to_string(i)), "x");
  WriteFile(Server("race/file"), "initial");
  Mount();
  const fs::path file = Mounted("race/file"), fresh = Mounted("race/fresh"),
                 moved = Mounted("race/moved");

  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  // Also when an assertion below ends the test early: the readers stop before TearDown unmounts.
  const struct StopReaders {
    std::atomic<bool>& stop;
    std::vector<std::thread>& readers;
    ~StopReaders() {
      stop = true;
      for (auto& reader : readers) reader.join();
    }
  } stop_readers{stop, readers};
  readers.emplace_back([&] {  // ls -l, over and over
    while (!stop) {
      std::error_code ignored;
      for (const auto& entry : fs::directory_iterator(Mounted("race"), ignored)) {
        (void)entry.symlink_status(ignored);
      }
    }
  });
  readers.emplace_back([&] {  // stat of the names the writer changes
    struct stat st {};
    while (!stop) {
      for (const auto& path : {file, fresh, moved}) ::stat(path.c_str(), &st);
    }
  });
  readers.emplace_back([&] {  // reads through a handle kept open, and through fresh opens
    const int held = ::open(file.c_str(), O_RDONLY);
    std::vector<char> buffer(64 * 1024);
    while (!stop) {
      if (held >= 0) (void)::pread(held, buffer.data(), buffer.size(), 0);
      const int fd = ::open(file.c_str(), O_RDONLY);
      if (fd < 0) continue;
      (void)::read(fd, buffer.data(), buffer.size());
      ::close(fd);
    }
    if (held >= 0) ::close(held);
  });

  const int held = ::open(file.c_str(), O_RDONLY);  // the writer's own long-lived reader
  ASSERT_GE(held, 0);
  const auto deadline = Clock::now() + 3s;
  int rounds = 0;
  for (; rounds < 2000 && Clock::now() < deadline; ++rounds) {
    const std::string round = " (round " + std::to_string(rounds) + ")";
    const std::string content(1 + (rounds * 7919) % 5000, static_cast<char>('a' + rounds % 26));
    {
      const int fd = ::open(file.c_str(), O_WRONLY | O_TRUNC);
      ASSERT_GE(fd, 0) << std::strerror(errno);
      ASSERT_EQ(::write(fd, content.data(), content.size()), static_cast<ssize_t>(content.size()));
      ASSERT_EQ(::close(fd), 0);
    }
    ExpectSize(file, static_cast<off_t>(content.size()), "write" + round);
    ExpectContent(held, content, "write, handle opened before" + round);
    const off_t half = static_cast<off_t>(content.size() / 2);
    ASSERT_EQ(::truncate(file.c_str(), half), 0);
    ExpectSize(file, half, "truncate" + round);
    ExpectContent(held, content.substr(0, content.size() / 2), "truncate, handle" + round);

    const int created = ::open(fresh.c_str(), O_CREAT | O_EXCL | O_WRONLY, 0644);
    ASSERT_GE(created, 0) << std::strerror(errno);
    ASSERT_EQ(::write(created, "fresh", 5), 5);
    ASSERT_EQ(::close(created), 0);
    ExpectSize(fresh, 5, "create" + round);
    ASSERT_EQ(::rename(fresh.c_str(), moved.c_str()), 0);
    ExpectAbsent(fresh, "rename" + round);
    ExpectSize(moved, 5, "rename" + round);
    ASSERT_EQ(::unlink(moved.c_str()), 0);
    ExpectAbsent(moved, "unlink" + round);
  }
  ::close(held);
  EXPECT_GT(rounds, 20) << "too few rounds to race anything";
  tp::MutexLock lock(violations_mutex_);
  EXPECT_EQ(violation_count_, 0) << violation_count_ << " stale answers in " << rounds
                                 << " rounds; the first: " << ::testing::PrintToString(violations_);
}

}  // namespace
