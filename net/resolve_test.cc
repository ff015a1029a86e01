// ResolveTcp: numeric addresses without waiting, names through the system resolver, and the
// deadline against a name server that never answers (in a network and mount namespace of the
// test's own, where /etc/resolv.conf names a UDP socket that reads nothing).
#include "net/resolve.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "net/tcp_socket.h"
#include "net/unique_fd.h"

namespace tp {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string NumericHost(const SocketAddress& address) {
  char text[INET6_ADDRSTRLEN] = {};
  if (address.family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(address.get())->sin_addr, text,
                sizeof text);
  } else if (address.family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_addr, text,
                sizeof text);
  }
  return text;
}

uint16_t PortOf(const SocketAddress& address) {
  if (address.family() == AF_INET) {
    return ntohs(reinterpret_cast<const sockaddr_in*>(address.get())->sin_port);
  }
  return ntohs(reinterpret_cast<const sockaddr_in6*>(address.get())->sin6_port);
}

// A deadline already past: only an answer that needs no waiting can come back.
TEST(ResolveTcpTest, NumericAddressesAreAnsweredWithoutWaiting) {
  const Resolution v4 = ResolveTcp("127.0.0.1", 8080, Clock::now() - 1s);
  ASSERT_TRUE(v4.ok()) << v4.error;
  ASSERT_EQ(v4.addresses.size(), 1u);
  EXPECT_EQ(v4.addresses[0].family(), AF_INET);
  EXPECT_EQ(NumericHost(v4.addresses[0]), "127.0.0.1");
  EXPECT_EQ(PortOf(v4.addresses[0]), 8080);
  const Resolution v6 = ResolveTcp("::1", 22, Clock::now() - 1s);
  ASSERT_TRUE(v6.ok()) << v6.error;
  ASSERT_EQ(v6.addresses.size(), 1u);
  EXPECT_EQ(v6.addresses[0].family(), AF_INET6);
  EXPECT_EQ(NumericHost(v6.addresses[0]), "::1");
  EXPECT_EQ(PortOf(v6.addresses[0]), 22);
}

TEST(ResolveTcpTest, TheEmptyHostIsEveryLocalAddress) {
  const Resolution any = ResolveTcp("", 2222, Clock::now() - 1s);
  ASSERT_TRUE(any.ok()) << any.error;
  ASSERT_FALSE(any.addresses.empty());
  for (const SocketAddress& address : any.addresses) {
    EXPECT_TRUE(NumericHost(address) == "0.0.0.0" || NumericHost(address) == "::")
        << NumericHost(address);
    EXPECT_EQ(PortOf(address), 2222);
  }
}

TEST(ResolveTcpTest, LocalhostResolvesThroughTheSystemResolver) {
  const Resolution local = ResolveTcp("localhost", 80, Clock::now() + 5s);
  ASSERT_TRUE(local.ok()) << local.error;
  ASSERT_FALSE(local.addresses.empty());
  for (const SocketAddress& address : local.addresses) {
    EXPECT_TRUE(NumericHost(address) == "127.0.0.1" || NumericHost(address) == "::1")
        << NumericHost(address);
    EXPECT_EQ(PortOf(address), 80);
  }
}

// Brings the loopback interface of the current network namespace up; "" or why not.
std::string BringLoopbackUp() {
  UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  ifreq request{};
  std::strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
  if (!socket.Valid() || ::ioctl(socket.Get(), SIOCGIFFLAGS, &request) != 0) {
    return std::string("cannot read lo's flags: ") + std::strerror(errno);
  }
  request.ifr_flags |= IFF_UP;
  if (::ioctl(socket.Get(), SIOCSIFFLAGS, &request) != 0) {
    return std::string("cannot bring lo up: ") + std::strerror(errno);
  }
  return "";
}

// Lays a file saying `text` over `target` (/etc/resolv.conf, /etc/hosts) in this (private) mount
// namespace.
std::string ReplaceEtcFile(const std::string& target, const std::string& text) {
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) {
    return std::string("cannot make / private: ") + std::strerror(errno);
  }
  char path[] = "/tmp/resolve-test-XXXXXX";
  UniqueFd file(::mkstemp(path));
  if (!file.Valid() ||
      ::write(file.Get(), text.data(), text.size()) != static_cast<ssize_t>(text.size())) {
    return "cannot write a file for " + target + ": " + std::strerror(errno);
  }
  const int mounted = ::mount(path, target.c_str(), nullptr, MS_BIND, nullptr);
  const int error = errno;
  ::unlink(path);
  if (mounted != 0) return "cannot bind over " + target + ": " + std::strerror(error);
  return "";
}

// Runs `check` in a child process whose resolver asks a name server (127.0.0.1:53 of a network
// namespace of its own) that takes every query and never answers. `check` returns "" when it
// passes, else what went wrong. The child reports through a pipe: "ok", "skip: why" or
// "fail: what".
std::string RunWithASilentNameServer(const std::function<std::string()>& check) {
  int ends[2];
  if (::pipe2(ends, O_CLOEXEC) != 0) return std::string("fail: pipe: ") + std::strerror(errno);
  UniqueFd read_end(ends[0]);
  UniqueFd write_end(ends[1]);
  const pid_t child = ::fork();
  if (child < 0) return std::string("fail: fork: ") + std::strerror(errno);
  if (child == 0) {
    read_end.Reset();
    const auto report = [&write_end](const std::string& text) {
      [[maybe_unused]] const ssize_t written = ::write(write_end.Get(), text.data(), text.size());
      ::_exit(0);
    };
    if (::unshare(CLONE_NEWNS | CLONE_NEWNET) != 0) {
      report(std::string("skip: unshare(CLONE_NEWNS | CLONE_NEWNET): ") + std::strerror(errno));
    }
    if (std::string why = BringLoopbackUp(); !why.empty()) report("skip: " + why);
    UniqueFd silent_server(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(53);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(silent_server.Get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
      report(std::string("skip: cannot bind 127.0.0.1:53: ") + std::strerror(errno));
    }
    if (std::string why = ReplaceEtcFile("/etc/resolv.conf",
                                         "nameserver 127.0.0.1\noptions timeout:5 attempts:3\n");
        !why.empty()) {
      report("skip: " + why);
    }
    const std::string failure = check();
    report(failure.empty() ? "ok" : "fail: " + failure);
  }
  write_end.Reset();
  std::string answer;
  const auto deadline = Clock::now() + 10s;
  while (true) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
    pollfd waiter{read_end.Get(), POLLIN, 0};
    if (left.count() <= 0 || ::poll(&waiter, 1, static_cast<int>(left.count())) <= 0) {
      ::kill(child, SIGKILL);
      answer = "fail: the child did not finish within 10 s";
      break;
    }
    char buffer[512];
    const ssize_t got = ::read(read_end.Get(), buffer, sizeof buffer);
    if (got <= 0) break;
    answer.append(buffer, static_cast<size_t>(got));
  }
  ::waitpid(child, nullptr, 0);
  return answer;
}

std::string FailsWithNoAnswerInTime(const std::string& host, Clock::duration wait,
                                    Clock::duration limit, ResolverThreads& threads) {
  const auto start = Clock::now();
  const Resolution result = ResolveTcp(host, 80, start + wait, threads);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  if (result.ok()) return host + " resolved";
  // N is what was left of the wait when the lookup began: `wait` or a millisecond or two less.
  const std::string expected = "cannot resolve " + host + ": no answer within ";
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(wait).count();
  const bool as_expected = result.error.starts_with(expected) && result.error.ends_with(" ms") &&
                           std::stol(result.error.substr(expected.size())) > waited - 50 &&
                           std::stol(result.error.substr(expected.size())) <= waited;
  if (!as_expected) return "error \"" + result.error + "\", not \"" + expected + "N ms\"";
  if (took > limit) return "took " + std::to_string(took.count()) + " ms";
  return "";
}

void ExpectPassed(const std::string& report) {
  if (report.starts_with("skip: ")) GTEST_SKIP() << report.substr(6);
  EXPECT_EQ(report, "ok");
}

// A resolver that would wait 3 x 5 s: ResolveTcp gives up at its deadline.
TEST(ResolveTcpTest, ANameServerThatNeverAnswersCostsOnlyTheDeadline) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network and mount namespace";
  ExpectPassed(RunWithASilentNameServer([] {
    ResolverThreads threads(kMaxResolverThreads);
    return FailsWithNoAnswerInTime("tp-test.invalid", 500ms, 1500ms, threads);
  }));
}

// Lookups left running past their deadline hold their thread: past the cap a name is refused at
// once, numeric addresses still resolve.
TEST(ResolveTcpTest, PastTheThreadCapANameIsRefusedAtOnce) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network and mount namespace";
  ExpectPassed(RunWithASilentNameServer([]() -> std::string {
    ResolverThreads threads(1);
    if (std::string failure = FailsWithNoAnswerInTime("tp-test.invalid", 200ms, 1200ms, threads);
        !failure.empty()) {
      return "first lookup: " + failure;
    }
    const auto start = Clock::now();
    const Resolution refused = ResolveTcp("tp-other.invalid", 80, start + 2s, threads);
    const std::string expected =
        "cannot resolve tp-other.invalid: too many lookups are still waiting for the resolver (1)";
    if (refused.error != expected) return "second lookup: \"" + refused.error + "\"";
    if (Clock::now() - start > 100ms) return "the refusal waited";
    if (!ResolveTcp("127.0.0.1", 80, start, threads).ok()) return "a numeric address was refused";
    return "";
  }));
}

// Where localhost is ::1 and 127.0.0.1 (Debian's /etc/hosts; ::1 comes first by RFC 6724),
// listening on localhost binds 127.0.0.1, what clients dial, not ::1 alone; the numeric
// addresses bind exactly their family.
TEST(ListenTcpTest, LocalhostListensOnIpv4EvenWhereItResolvesToIpv6First) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for a network and mount namespace";
  ExpectPassed(RunWithASilentNameServer([]() -> std::string {
    if (std::string why = ReplaceEtcFile("/etc/hosts", "::1 localhost\n127.0.0.1 localhost\n");
        !why.empty()) {
      return why;
    }
    const Resolution resolved = ResolveTcp("localhost", 80, Clock::now() + 2s);
    if (!resolved.ok() || resolved.addresses.size() != 2 ||
        resolved.addresses.front().family() != AF_INET6) {
      return "the premise does not hold: localhost should resolve to ::1 first, then 127.0.0.1";
    }
    std::string error;
    const TcpListener named = ListenTcp("localhost:0", error);
    if (!named.socket.Valid()) return "localhost: " + error;
    if (named.bound_host != "127.0.0.1") return "localhost bound " + named.bound_host;
    const TcpListener ipv6 = ListenTcp("[::1]:0", error);
    if (!ipv6.socket.Valid() || ipv6.bound_host != "[::1]") return "[::1] bound " + ipv6.bound_host;
    return "";
  }));
}

}  // namespace
}  // namespace tp
