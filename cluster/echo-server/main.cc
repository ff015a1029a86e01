// echo-server: the demo cluster's workload. Answers every HTTP request with its own name, the
// method, the path and the request headers, and echoes UDP datagrams on the same port, each
// reply prefixed with its name. GET /bytes/N streams N bytes instead (for throughput benchmarks).
// SIGTERM, SIGINT or SIGHUP make it exit 0.
#include <arpa/inet.h>
#include <httplib.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "common/shutdown_signal.h"
#include "net/host_port.h"
#include "net/interface_address.h"
#include "net/unique_fd.h"

namespace {

constexpr std::string_view kUsage =
    "usage: echo-server --name NAME [--port PORT]... [--tcp-address ADDRESS]\n"
    "\n"
    "An HTTP server that answers any request with a text body \"echo from NAME\", the\n"
    "method, the path and the request headers; plus a UDP echo on the same ports that\n"
    "returns each datagram prefixed with \"NAME: \". GET /bytes/N answers N bytes\n"
    "(N up to 2^40) for throughput measurements.\n"
    "\n"
    "  --name NAME            the name in every answer (required)\n"
    "  --port PORT            a TCP and UDP port (repeatable; default 8080)\n"
    "  --tcp-address ADDRESS  the IPv4 address the TCP listeners bind (default 0.0.0.0, every\n"
    "                         address, and the host's IPv6 address too; 127.0.0.1 leaves\n"
    "                         the pod address to a sidecar); UDP always binds 0.0.0.0\n"
    "  --help                 this text\n";

struct EchoOptions {
  std::string name;
  std::vector<int> ports;  // filled with 8080 when no --port is given
  std::string tcp_address = "0.0.0.0";
  bool help = false;
};

// Returns the options, or nullopt with `error` set.
std::optional<EchoOptions> ParseOptions(const std::vector<std::string_view>& args,
                                        std::string& error) {
  EchoOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string_view arg = args[i];
    if (arg == "--help") {
      options.help = true;
      return options;
    }
    if (arg != "--name" && arg != "--port" && arg != "--tcp-address") {
      error = "unknown argument " + std::string(arg);
      return std::nullopt;
    }
    if (i + 1 == args.size()) {
      error = std::string(arg) + " needs a value";
      return std::nullopt;
    }
    const std::string_view value = args[++i];
    if (arg == "--name") {
      options.name = value;
    } else if (arg == "--tcp-address") {
      options.tcp_address = value;
    } else if (auto port = tp::ParseServicePort(value)) {
      options.ports.push_back(*port);
    } else {
      error = "--port wants an integer from 1 to 65535, got " + std::string(value);
      return std::nullopt;
    }
  }
  if (options.name.empty()) {
    error = "--name is required";
    return std::nullopt;
  }
  in_addr unused{};
  if (::inet_pton(AF_INET, options.tcp_address.c_str(), &unused) != 1) {
    error = "--tcp-address wants an IPv4 address, got " + options.tcp_address;
    return std::nullopt;
  }
  if (options.ports.empty()) options.ports.push_back(8080);
  return options;
}

std::string DescribeRequest(const std::string& name, const httplib::Request& request) {
  std::string body = "echo from " + name + "\n";
  body += "method: " + request.method + "\n";
  body += "path: " + request.target + "\n";
  body += "client: " + request.remote_addr + ":" + std::to_string(request.remote_port) + "\n";
  body += "headers:\n";
  for (const auto& [header, value] : request.headers) {
    // cpp-httplib adds the connection's addresses as pseudo-headers; they are not the client's.
    if (header == "LOCAL_ADDR" || header == "LOCAL_PORT" || header == "REMOTE_ADDR" ||
        header == "REMOTE_PORT") {
      continue;
    }
    body += "  " + header + ": " + value + "\n";
  }
  return body;
}

constexpr size_t kBulkChunkSize = 256 * 1024;
constexpr uint64_t kMaxBulkSize = uint64_t{1} << 40;

std::optional<uint64_t> ParseBulkSize(std::string_view text) {
  uint64_t size = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), size);
  if (error != std::errc() || end != text.data() + text.size() || size > kMaxBulkSize) {
    return std::nullopt;
  }
  return size;
}

// GET /bytes/N: N bytes of 'x', streamed in chunks.
void AnswerBulk(const httplib::Request& request, httplib::Response& response) {
  const auto size = ParseBulkSize(request.matches[1].str());
  if (!size) {
    response.status = 400;
    response.set_content("bytes wants a size from 0 to 2^40\n", "text/plain");
    return;
  }
  auto chunk = std::make_shared<std::string>(kBulkChunkSize, 'x');
  response.set_content_provider(*size, "application/octet-stream",
                                [chunk](size_t offset, size_t length, httplib::DataSink& sink) {
                                  (void)offset;
                                  return sink.write(chunk->data(), std::min(length, chunk->size()));
                                });
}

// Echoes UDP datagrams on 0.0.0.0:port from its own thread until destroyed.
class UdpEcho {
 public:
  // Returns nullptr with `error` set when the port cannot be bound.
  static std::unique_ptr<UdpEcho> Start(const std::string& name, int port, std::string& error) {
    tp::UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    tp::UniqueFd stop_event(::eventfd(0, EFD_CLOEXEC));
    if (!socket.Valid() || !stop_event.Valid()) {
      error = std::string("cannot create the UDP socket: ") + std::strerror(errno);
      return nullptr;
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_ANY);
    address.sin_port = htons(static_cast<uint16_t>(port));
    if (::bind(socket.Get(), reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0) {
      error = "cannot bind UDP port " + std::to_string(port) + ": " + std::strerror(errno);
      return nullptr;
    }
    return std::unique_ptr<UdpEcho>(new UdpEcho(name, std::move(socket), std::move(stop_event)));
  }

  ~UdpEcho() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(stop_event_.Get(), &one, sizeof one);
    thread_.join();
  }
  UdpEcho(const UdpEcho&) = delete;
  UdpEcho& operator=(const UdpEcho&) = delete;

 private:
  UdpEcho(std::string name, tp::UniqueFd socket, tp::UniqueFd stop_event)
      : prefix_(std::move(name) + ": "),
        socket_(std::move(socket)),
        stop_event_(std::move(stop_event)),
        thread_([this] { Run(); }) {}

  void Run() {
    std::vector<char> datagram(65536);
    pollfd waits[2] = {{socket_.Get(), POLLIN, 0}, {stop_event_.Get(), POLLIN, 0}};
    for (;;) {
      if (::poll(waits, 2, -1) < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (waits[1].revents != 0) return;
      if (waits[0].revents == 0) continue;
      sockaddr_storage peer{};
      socklen_t peer_size = sizeof peer;
      const ssize_t size = ::recvfrom(socket_.Get(), datagram.data(), datagram.size(), 0,
                                      reinterpret_cast<sockaddr*>(&peer), &peer_size);
      if (size < 0) continue;
      std::string reply = prefix_;
      reply.append(datagram.data(), static_cast<size_t>(size));
      ::sendto(socket_.Get(), reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&peer),
               peer_size);
    }
  }

  const std::string prefix_;
  tp::UniqueFd socket_;
  tp::UniqueFd stop_event_;
  std::thread thread_;  // last: starts after the members it uses
};

// One port's HTTP server and UDP echo, running until Stop().
class EchoPort {
 public:
  // Returns nullptr with `error` set when a listener cannot be bound.
  static std::unique_ptr<EchoPort> Start(const EchoOptions& options, int port, std::string& error) {
    auto echo_port = std::unique_ptr<EchoPort>(new EchoPort(options.name));
    if (!echo_port->server_.bind_to_port(options.tcp_address, port)) {
      error = "cannot listen on TCP " + options.tcp_address + ":" + std::to_string(port);
      return nullptr;
    }
    echo_port->udp_echo_ = UdpEcho::Start(options.name, port, error);
    if (!echo_port->udp_echo_) return nullptr;
    EchoPort& self = *echo_port;
    echo_port->http_thread_ = std::thread([&self] { self.server_.listen_after_bind(); });
    // With the default address, this host's IPv6 address too when it has one. (Its own address,
    // not [::]: cpp-httplib makes IPv6 sockets dual stack, and [::] would clash with 0.0.0.0.)
    if (options.tcp_address != "0.0.0.0") return echo_port;
    const std::optional<std::string> ipv6 = tp::FirstInterfaceAddress(AF_INET6);
    if (ipv6 && echo_port->server6_.bind_to_port(*ipv6, port)) {
      echo_port->http6_thread_ = std::thread([&self] { self.server6_.listen_after_bind(); });
    }
    return echo_port;
  }

  ~EchoPort() {
    server_.stop();
    server6_.stop();
    if (http_thread_.joinable()) http_thread_.join();
    if (http6_thread_.joinable()) http6_thread_.join();
  }
  EchoPort(const EchoPort&) = delete;
  EchoPort& operator=(const EchoPort&) = delete;

 private:
  explicit EchoPort(const std::string& name) {
    Route(server_, name);
    Route(server6_, name);
  }

  static void Route(httplib::Server& server, const std::string& name) {
    const auto answer = [name](const httplib::Request& request, httplib::Response& response) {
      response.set_content(DescribeRequest(name, request), "text/plain");
    };
    const std::string any_path = ".*";
    server.Get(R"(/bytes/(\d+))", AnswerBulk);
    server.Get(any_path, answer);
    server.Post(any_path, answer);
    server.Put(any_path, answer);
    server.Patch(any_path, answer);
    server.Delete(any_path, answer);
    server.Options(any_path, answer);
  }

  httplib::Server server_;
  httplib::Server server6_;  // on this host's IPv6 address, when it has one
  std::thread http6_thread_;
  std::unique_ptr<UdpEcho> udp_echo_;
  std::thread http_thread_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string error;
  const auto options = ParseOptions({argv + 1, argv + argc}, error);
  if (!options) {
    std::cerr << "echo-server: " << error << "\n\n" << kUsage;
    return 2;
  }
  if (options->help) {
    std::cout << kUsage;
    return 0;
  }
  tp::ShutdownSignal shutdown_signal;  // before any thread starts

  std::vector<std::unique_ptr<EchoPort>> ports;
  for (const int port : options->ports) {
    ports.push_back(EchoPort::Start(*options, port, error));
    if (!ports.back()) {
      std::cerr << "echo-server: " << error << "\n";
      return 1;
    }
    std::cout << "echo-server " << options->name << " listening on TCP " << options->tcp_address
              << ":" << port << " and UDP port " << port << std::endl;
  }
  shutdown_signal.Wait();
  return 0;
}
