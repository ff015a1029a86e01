// tunnel-bench: one TCP stream's throughput and connection set-up time through the tunnel
// (this process as the daemon, a traffic-manager child process on loopback) against the same
// transfers over direct loopback TCP, in one run, printed as ratios. Then the same over a link
// with latency: the tunnel to the manager through a delaying proxy (bench/proxy_acceptor.h, in
// this process, --delay-ms each way) against plain TCP through the same kind of proxy to the
// server (the link's ceiling), and the time to the first byte of a new connection in round trips.
//
//   tunnel-bench [--megabytes N] [--connections N] [--manager PATH]
//                [--delay-ms MS] [--link-megabytes N] [--link-runs N] [--link-connections N]
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <list>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/proxy_acceptor.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"
#include "tunnel/tunnel_handshake.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using tp::UniqueFd;
using tp::tunnel::Deadline;

constexpr char kSecret[] = "tunnel-bench-secret";
constexpr size_t kBufferBytes = 256 * 1024;
constexpr auto kStepTimeout = 60s;

Deadline In(std::chrono::milliseconds duration) { return Clock::now() + duration; }

// A byte-stream endpoint: a plain socket or a tunnel stream, measured the same way.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual bool Write(std::span<const uint8_t> bytes) = 0;
  virtual size_t Read(std::span<uint8_t> into) = 0;  // 0 at end of stream or on error
  virtual void CloseWrite() = 0;
};

class SocketChannel : public Channel {
 public:
  explicit SocketChannel(UniqueFd socket) : socket_(std::move(socket)) {}
  bool Write(std::span<const uint8_t> bytes) override {
    return tp::tunnel::WriteAll(socket_.Get(), bytes, In(kStepTimeout));
  }
  size_t Read(std::span<uint8_t> into) override {
    pollfd waiter{socket_.Get(), POLLIN, 0};
    if (::poll(&waiter, 1, static_cast<int>(std::chrono::milliseconds(kStepTimeout).count())) <=
        0) {
      return 0;
    }
    const ssize_t got = ::recv(socket_.Get(), into.data(), into.size(), 0);
    return got > 0 ? static_cast<size_t>(got) : 0;
  }
  void CloseWrite() override { ::shutdown(socket_.Get(), SHUT_WR); }

 private:
  UniqueFd socket_;
};

class StreamChannel : public Channel {
 public:
  explicit StreamChannel(std::unique_ptr<tp::tunnel::TunnelStream> stream)
      : stream_(std::move(stream)) {}
  bool Write(std::span<const uint8_t> bytes) override {
    return stream_->Write(bytes, In(kStepTimeout)).ok();
  }
  size_t Read(std::span<uint8_t> into) override {
    const auto result = stream_->Read(into, In(kStepTimeout));
    return result.ok() ? result.bytes : 0;
  }
  void CloseWrite() override { stream_->CloseWrite(); }

 private:
  std::unique_ptr<tp::tunnel::TunnelStream> stream_;
};

// The far end on loopback. A connection's first byte picks the test:
// 'U' + u64 n: read n bytes, answer "k"; 'D' + u64 n: send n bytes; 'E': echo one byte.
class BenchServer {
 public:
  BenchServer() {
    std::string error;
    listener_ = tp::ListenTcp("127.0.0.1:0", error);
    if (!listener_.socket.Valid()) std::fprintf(stderr, "tunnel-bench: %s\n", error.c_str());
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }
  ~BenchServer() {
    stopping_ = true;
    acceptor_.join();
    tp::MutexLock lock(mutex_);
    for (auto& thread : threads_) thread.join();
  }
  uint16_t port() const { return static_cast<uint16_t>(listener_.bound_port); }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      pollfd waiter{listener_.socket.Get(), POLLIN, 0};
      if (::poll(&waiter, 1, 100) <= 0) continue;
      auto socket = std::make_shared<UniqueFd>(
          ::accept4(listener_.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!socket->Valid()) continue;
      tp::EnableNoDelay(socket->Get());
      tp::MutexLock lock(mutex_);
      threads_.emplace_back([socket] { Serve(std::move(*socket)); });
    }
  }
  static void Serve(UniqueFd socket) {
    SocketChannel channel(std::move(socket));
    uint8_t command[9];
    if (channel.Read(std::span(command, 1)) != 1) return;
    if (command[0] == 'E') {
      channel.Write(std::span(command, 1));
      return;
    }
    size_t have = 0;
    while (have < 8) {
      const size_t got = channel.Read(std::span(command + 1 + have, 8 - have));
      if (got == 0) return;
      have += got;
    }
    uint64_t size = 0;
    for (int index = 1; index <= 8; ++index) size = (size << 8) | command[index];
    std::vector<uint8_t> buffer(kBufferBytes, 0x5a);
    if (command[0] == 'U') {
      for (uint64_t left = size; left > 0;) {
        const size_t got =
            channel.Read(std::span(buffer).first(std::min<uint64_t>(left, buffer.size())));
        if (got == 0) return;
        left -= got;
      }
      const uint8_t done = 'k';
      channel.Write(std::span(&done, 1));
    } else {
      for (uint64_t left = size; left > 0;) {
        const size_t count = std::min<uint64_t>(left, buffer.size());
        if (!channel.Write(std::span(buffer).first(count))) return;
        left -= count;
      }
    }
    channel.CloseWrite();
  }

  tp::TcpListener listener_;
  std::atomic<bool> stopping_{false};
  tp::Mutex mutex_;
  std::list<std::thread> threads_ GUARDED_BY(mutex_);
  std::thread acceptor_;
};

// A traffic-manager child process on 127.0.0.1, port 0.
class ManagerChild {
 public:
  explicit ManagerChild(const std::string& binary) {
    char folder_template[] = "/tmp/tunnel-bench.XXXXXX";
    folder_ = ::mkdtemp(folder_template);
    const std::string secret_file = folder_ + "/secret";
    const std::string port_file = folder_ + "/port";
    std::ofstream(secret_file) << kSecret << "\n";
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, STDOUT_FILENO);
      ::dup2(null, STDERR_FILENO);
      ::execl(binary.c_str(), "traffic-manager", "--listen", "127.0.0.1:0", "--secret-file",
              secret_file.c_str(), "--subnets", "127.0.0.0/8", "--port-file", port_file.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = In(5s);
    while (port_ == 0 && Clock::now() < deadline) {
      std::ifstream(port_file) >> port_;
      if (port_ == 0) std::this_thread::sleep_for(10ms);
    }
  }
  ~ManagerChild() {
    ::kill(pid_, SIGTERM);
    ::waitpid(pid_, nullptr, 0);
    std::filesystem::remove_all(folder_);
  }
  uint16_t port() const { return static_cast<uint16_t>(port_); }
  // User + system CPU seconds the manager used so far (clock-tick resolution).
  double CpuSeconds() const {
    std::ifstream stat("/proc/" + std::to_string(pid_) + "/stat");
    std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
    // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
    std::istringstream fields(text.substr(std::min(text.size(), text.rfind(')') + 2)));
    std::string field;
    double ticks = 0;
    for (int index = 3; index <= 15 && fields >> field; ++index) {
      if (index >= 14) ticks += std::stod(field);
    }
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
  }
  // A line of /proc/PID/status, e.g. "VmHWM:     5120 kB" for "VmHWM".
  std::string Status(const std::string& field) const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind(field + ":", 0) == 0) return line;
    }
    return field + ": unknown";
  }

 private:
  std::string folder_;
  pid_t pid_ = -1;
  int port_ = 0;
};

using ChannelOpener = std::function<std::unique_ptr<Channel>()>;

std::vector<uint8_t> Command(char kind, uint64_t size) {
  std::vector<uint8_t> bytes = {static_cast<uint8_t>(kind)};
  for (int shift = 56; shift >= 0; shift -= 8) bytes.push_back(static_cast<uint8_t>(size >> shift));
  return bytes;
}

// MB/s of `size` bytes sent to the server, until its acknowledgement; nullopt on failure.
std::optional<double> Upload(const ChannelOpener& open, uint64_t size) {
  auto channel = open();
  if (!channel) return std::nullopt;
  const std::vector<uint8_t> buffer(kBufferBytes, 0xa5);
  const auto start = Clock::now();
  if (!channel->Write(Command('U', size))) return std::nullopt;
  for (uint64_t left = size; left > 0;) {
    const size_t count = std::min<uint64_t>(left, buffer.size());
    if (!channel->Write(std::span(buffer).first(count))) return std::nullopt;
    left -= count;
  }
  uint8_t done = 0;
  if (channel->Read(std::span(&done, 1)) != 1) return std::nullopt;
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(size) / 1e6 / elapsed.count();
}

// MB/s of `size` bytes sent by the server until its end of stream; nullopt on failure.
std::optional<double> Download(const ChannelOpener& open, uint64_t size) {
  auto channel = open();
  if (!channel) return std::nullopt;
  std::vector<uint8_t> buffer(kBufferBytes);
  const auto start = Clock::now();
  if (!channel->Write(Command('D', size))) return std::nullopt;
  uint64_t received = 0;
  while (received < size) {
    const size_t got = channel->Read(buffer);
    if (got == 0) return std::nullopt;
    received += got;
  }
  const std::chrono::duration<double> elapsed = Clock::now() - start;
  return static_cast<double>(size) / 1e6 / elapsed.count();
}

// Milliseconds from "connect" to the first echoed byte, per connection, sorted; and to the
// end of the connect alone (through the tunnel: the open, which does not wait for its answer)
// in `open_times`.
std::vector<double> SetupTimes(const ChannelOpener& open, int connections,
                               std::vector<double>& open_times) {
  std::vector<double> times;
  for (int index = 0; index < connections; ++index) {
    const auto start = Clock::now();
    auto channel = open();
    if (!channel) continue;
    const auto opened = Clock::now();
    const uint8_t probe = 'E';
    uint8_t answer = 0;
    if (!channel->Write(std::span(&probe, 1)) || channel->Read(std::span(&answer, 1)) != 1)
      continue;
    times.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    open_times.push_back(std::chrono::duration<double, std::milli>(opened - start).count());
  }
  std::sort(times.begin(), times.end());
  std::sort(open_times.begin(), open_times.end());
  return times;
}

double Percentile(const std::vector<double>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  return sorted[std::min(sorted.size() - 1, static_cast<size_t>(fraction * sorted.size()))];
}

std::string DefaultManagerPath() {
  std::error_code error;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", error);
  return (self.parent_path() / "traffic-manager").string();
}

struct BenchOptions {
  uint64_t megabytes = 512;
  int connections = 300;
  std::string manager = DefaultManagerPath();
  int delay_ms = 10;  // one way; 0: no link case
  uint64_t link_megabytes = 512;
  int link_runs = 3;  // downloads each way, alternating; the median is printed
  int link_connections = 20;
};

std::optional<BenchOptions> ParseOptions(int argc, char** argv) {
  BenchOptions options;
  for (int index = 1; index < argc; ++index) {
    const std::string flag = argv[index];
    if (index + 1 >= argc) return std::nullopt;
    const std::string value = argv[++index];
    if (flag == "--megabytes") {
      options.megabytes = std::stoull(value);
    } else if (flag == "--connections") {
      options.connections = std::stoi(value);
    } else if (flag == "--manager") {
      options.manager = value;
    } else if (flag == "--delay-ms") {
      options.delay_ms = std::stoi(value);
    } else if (flag == "--link-megabytes") {
      options.link_megabytes = std::stoull(value);
    } else if (flag == "--link-runs") {
      options.link_runs = std::max(1, std::stoi(value));
    } else if (flag == "--link-connections") {
      options.link_connections = std::stoi(value);
    } else {
      return std::nullopt;
    }
  }
  return options;
}

// CPU seconds this process used so far, all threads (the bench server's included).
double ProcessCpuSeconds() {
  timespec now{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

// One transfer's rate and the CPU it cost, this process and the manager together.
struct Measured {
  std::optional<double> megabytes_per_second;
  double cpu_seconds = 0;
};

Measured Measure(const ManagerChild& manager, const std::function<std::optional<double>()>& run) {
  const double before = ProcessCpuSeconds() + manager.CpuSeconds();
  Measured measured;
  measured.megabytes_per_second = run();
  measured.cpu_seconds = ProcessCpuSeconds() + manager.CpuSeconds() - before;
  return measured;
}

void PrintThroughput(const char* label, const Measured& direct, const Measured& tunnel,
                     uint64_t size) {
  if (!direct.megabytes_per_second || !tunnel.megabytes_per_second) {
    std::printf("%-22s FAILED\n", label);
    return;
  }
  const double gigabytes = static_cast<double>(size) / 1e9;
  std::printf(
      "%-22s direct %8.0f MB/s   tunnel %8.0f MB/s   tunnel/direct %.2f   CPU s/GB direct %.2f "
      "tunnel %.2f\n",
      label, *direct.megabytes_per_second, *tunnel.megabytes_per_second,
      *tunnel.megabytes_per_second / *direct.megabytes_per_second, direct.cpu_seconds / gigabytes,
      tunnel.cpu_seconds / gigabytes);
}

// A tunnel client connection (handshake done) to the manager at 127.0.0.1:port, or null.
std::unique_ptr<tp::tunnel::TunnelConnection> ConnectTunnel(uint16_t port) {
  auto dial = tp::DialTcp("127.0.0.1", port, In(2s));
  if (!dial.socket.Valid()) {
    std::fprintf(stderr, "tunnel-bench: %s\n", dial.message.c_str());
    return nullptr;
  }
  const auto greeting = tp::tunnel::ClientHandshake(
      dial.socket.Get(), {tp::tunnel::kProtocolVersion, "tunnel-bench", kSecret}, In(5s));
  if (!greeting.welcome) {
    std::fprintf(stderr, "tunnel-bench: %s\n", greeting.error.c_str());
    return nullptr;
  }
  return tp::tunnel::TunnelConnection::Start(std::move(dial.socket), tp::tunnel::Role::kClient, {});
}

ChannelOpener DirectOpener(uint16_t port) {
  return [port]() -> std::unique_ptr<Channel> {
    auto dialed = tp::DialTcp("127.0.0.1", port, In(2s));
    if (!dialed.socket.Valid()) return nullptr;
    return std::make_unique<SocketChannel>(std::move(dialed.socket));
  };
}

// Streams to the bench server at 127.0.0.1:port through `connection`, opened the way the
// daemon opens them: the first bytes go right behind the open, without waiting for its answer.
ChannelOpener TunnelOpener(tp::tunnel::TunnelConnection& connection, uint16_t port) {
  return [&connection, port]() -> std::unique_ptr<Channel> {
    return std::make_unique<StreamChannel>(connection.OpenTcpEarly("127.0.0.1", port, In(5s)));
  };
}

// A delaying proxy in this process: 127.0.0.1:<port()> -> 127.0.0.1:target, `delay` each way.
class DelayedLink {
 public:
  DelayedLink(uint16_t target, std::chrono::milliseconds delay) {
    std::string error;
    tp::TcpListener listener = tp::ListenTcp("127.0.0.1:0", error);
    port_ = static_cast<uint16_t>(listener.bound_port);
    proxy_ = std::make_unique<tp::bench::ProxyAcceptor>(std::move(listener),
                                                        tp::HostPort{"127.0.0.1", target}, delay);
  }
  uint16_t port() const { return port_; }

 private:
  uint16_t port_ = 0;
  std::unique_ptr<tp::bench::ProxyAcceptor> proxy_;
};

// The tunnel over a link with `delay_ms` each way against plain TCP through the same kind of
// proxy: download rate, and the time to the first byte of a new connection in round trips.
void RunLinkCase(const BenchOptions& options, const ManagerChild& manager, uint16_t server_port) {
  const uint16_t manager_port = manager.port();
  const auto delay = std::chrono::milliseconds(options.delay_ms);
  const double round_trip_ms = 2.0 * options.delay_ms;
  DelayedLink to_manager(manager_port, delay);
  DelayedLink to_server(server_port, delay);
  auto connection = ConnectTunnel(to_manager.port());
  if (!connection) return;
  const ChannelOpener ceiling = DirectOpener(to_server.port());
  const ChannelOpener tunneled = TunnelOpener(*connection, server_port);
  const uint64_t size = options.link_megabytes * 1000 * 1000;
  std::printf(
      "\nover a link of %d ms each way (RTT %.0f ms; delaying proxy in this process), %llu MB "
      "download, median of %d runs each (a new stream each); %d connections for set-up time\n",
      options.delay_ms, round_trip_ms, static_cast<unsigned long long>(options.link_megabytes),
      options.link_runs, options.link_connections);
  std::vector<double> ceiling_rates, tunnel_rates, ceiling_cpu, tunnel_cpu;
  const double gigabytes = static_cast<double>(size) / 1e9;
  for (int run = 0; run < options.link_runs; ++run) {
    const Measured plain = Measure(manager, [&] { return Download(ceiling, size); });
    const Measured tunnel = Measure(manager, [&] { return Download(tunneled, size); });
    if (!plain.megabytes_per_second || !tunnel.megabytes_per_second) break;
    ceiling_rates.push_back(*plain.megabytes_per_second);
    tunnel_rates.push_back(*tunnel.megabytes_per_second);
    ceiling_cpu.push_back(plain.cpu_seconds / gigabytes);
    tunnel_cpu.push_back(tunnel.cpu_seconds / gigabytes);
  }
  if (static_cast<int>(tunnel_rates.size()) < options.link_runs) {
    std::printf("%-22s FAILED\n", "link download");
  } else {
    for (auto* values : {&ceiling_rates, &tunnel_rates, &ceiling_cpu, &tunnel_cpu}) {
      std::sort(values->begin(), values->end());
    }
    const double plain_rate = Percentile(ceiling_rates, 0.5);
    const double tunnel_rate = Percentile(tunnel_rates, 0.5);
    std::printf(
        "%-22s plain TCP %8.0f MB/s   tunnel %8.0f MB/s   tunnel/plain %.2f   (target >= 0.50)   "
        "CPU s/GB plain %.2f tunnel %.2f (with the proxy's)\n",
        "link download", plain_rate, tunnel_rate, tunnel_rate / plain_rate,
        Percentile(ceiling_cpu, 0.5), Percentile(tunnel_cpu, 0.5));
  }
  std::vector<double> ceiling_opens;
  std::vector<double> tunnel_opens;
  const auto ceiling_times = SetupTimes(ceiling, options.link_connections, ceiling_opens);
  const auto tunnel_times = SetupTimes(tunneled, options.link_connections, tunnel_opens);
  const double ceiling_median = Percentile(ceiling_times, 0.5);
  const double tunnel_median = Percentile(tunnel_times, 0.5);
  std::printf(
      "%-22s plain TCP %6.1f ms = %.2f RTT   tunnel %6.1f ms = %.2f RTT (p90 %.1f ms)   "
      "(target <= 1.2 RTT)\n",
      "link first byte", ceiling_median, ceiling_median / round_trip_ms, tunnel_median,
      tunnel_median / round_trip_ms, Percentile(tunnel_times, 0.9));
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = ParseOptions(argc, argv);
  if (!options) {
    std::fprintf(stderr,
                 "usage: tunnel-bench [--megabytes N] [--connections N] [--manager PATH]\n"
                 "                    [--delay-ms MS] [--link-megabytes N] [--link-runs N] "
                 "[--link-connections N]\n");
    return 2;
  }
  std::signal(SIGPIPE, SIG_IGN);
  spdlog::set_level(spdlog::level::warn);
  BenchServer server;
  ManagerChild manager(options->manager);
  if (manager.port() == 0) {
    std::fprintf(stderr, "tunnel-bench: %s did not start\n", options->manager.c_str());
    return 1;
  }
  auto connection = ConnectTunnel(manager.port());
  if (!connection) return 1;
  const uint16_t port = server.port();
  const ChannelOpener direct = DirectOpener(port);
  const ChannelOpener tunneled = TunnelOpener(*connection, port);

  const uint64_t size = options->megabytes * 1000 * 1000;
  std::printf("one stream, %llu MB each way, loopback; %d connections for set-up time\n",
              static_cast<unsigned long long>(options->megabytes), options->connections);
  const auto upload = [&size](const ChannelOpener& open) {
    return [&open, &size] { return Upload(open, size); };
  };
  const auto download = [&size](const ChannelOpener& open) {
    return [&open, &size] { return Download(open, size); };
  };
  PrintThroughput("upload (to server)", Measure(manager, upload(direct)),
                  Measure(manager, upload(tunneled)), size);
  PrintThroughput("download (from server)", Measure(manager, download(direct)),
                  Measure(manager, download(tunneled)), size);
  std::vector<double> direct_opens;
  std::vector<double> tunnel_opens;
  const auto direct_times = SetupTimes(direct, options->connections, direct_opens);
  const auto tunnel_times = SetupTimes(tunneled, options->connections, tunnel_opens);
  const double direct_median = Percentile(direct_times, 0.5);
  const double tunnel_median = Percentile(tunnel_times, 0.5);
  std::printf(
      "connect+first byte     direct median %.3f ms p90 %.3f ms   tunnel median %.3f ms p90 %.3f "
      "ms   tunnel/direct %.2f   overhead %.3f ms\n",
      direct_median, Percentile(direct_times, 0.9), tunnel_median, Percentile(tunnel_times, 0.9),
      direct_median > 0 ? tunnel_median / direct_median : 0.0, tunnel_median - direct_median);
  std::printf(
      "connect alone          direct median %.3f ms p90 %.3f ms   tunnel (open, its answer not "
      "awaited) median %.3f ms p90 %.3f ms\n",
      Percentile(direct_opens, 0.5), Percentile(direct_opens, 0.9), Percentile(tunnel_opens, 0.5),
      Percentile(tunnel_opens, 0.9));
  if (options->delay_ms > 0) RunLinkCase(*options, manager, port);
  std::printf("traffic-manager memory  %s   %s (peak)\n", manager.Status("VmRSS").c_str(),
              manager.Status("VmHWM").c_str());
  return 0;
}
