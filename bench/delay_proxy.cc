// delay-proxy: a TCP proxy that adds a fixed one-way delay to each direction, to measure file
// systems over a link with latency. See --help.
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "bench/proxy_acceptor.h"
#include "common/logging.h"
#include "common/shutdown_signal.h"
#include "net/tcp_socket.h"

namespace {

constexpr char kUsage[] =
    "usage: delay-proxy --target HOST:PORT [--listen HOST:PORT] [--delay-ms MS]\n"
    "                   [--port-file FILE]\n"
    "\n"
    "Relays each accepted TCP connection to the target; data read at time t is written at\n"
    "t + MS in each direction (order kept, bandwidth not limited). Prints\n"
    "`listening on HOST:PORT` once ready; SIGTERM/SIGINT stop it.\n"
    "\n"
    "  --listen HOST:PORT  default 127.0.0.1:0 (a free port)\n"
    "  --target HOST:PORT  where to connect (required)\n"
    "  --delay-ms MS       one-way delay in milliseconds, default 0\n"
    "  --port-file FILE    write the bound port to FILE (atomically) when ready\n";

struct ProxyOptions {
  std::string listen = "127.0.0.1:0";
  tp::HostPort target;
  int delay_ms = 0;
  std::string port_file;
  bool help = false;
};

std::optional<int> ParseNonNegative(const std::string& text) {
  int value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
  return value;
}

// Parses `--name value` pairs; returns nullopt (after printing why) on a bad command line.
std::optional<ProxyOptions> ParseOptions(const std::vector<std::string>& args) {
  ProxyOptions options;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& name = args[i];
    if (name == "--help" || name == "-h") {
      options.help = true;
      return options;
    }
    if (i + 1 >= args.size()) {
      std::cerr << "delay-proxy: " << name << ": unknown or missing its value\n";
      return std::nullopt;
    }
    const std::string& value = args[++i];
    if (name == "--listen") {
      options.listen = value;
    } else if (name == "--target") {
      const std::optional<tp::HostPort> target = tp::ParseHostPort(value);
      if (!target || target->port == 0) {
        std::cerr << "delay-proxy: --target wants HOST:PORT, got " << value << "\n";
        return std::nullopt;
      }
      options.target = *target;
    } else if (name == "--port-file") {
      options.port_file = value;
    } else if (name == "--delay-ms" && ParseNonNegative(value)) {
      options.delay_ms = *ParseNonNegative(value);
    } else {
      std::cerr << "delay-proxy: bad argument " << name << " " << value << "\n";
      return std::nullopt;
    }
  }
  if (options.target.host.empty()) {
    std::cerr << "delay-proxy: --target HOST:PORT is required\n";
    return std::nullopt;
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const auto options = ParseOptions({argv + 1, argv + argc});
  if (!options) {
    std::cerr << kUsage;
    return 2;
  }
  if (options->help) {
    std::cout << kUsage;
    return 0;
  }
  tp::InitLogging("delay-proxy");
  tp::ShutdownSignal shutdown_signal;  // before any thread starts

  std::string error;
  auto listener = tp::ListenTcp(options->listen, error);
  if (!listener.socket.Valid()) {
    spdlog::error("{}", error);
    return 1;
  }
  const int port = listener.bound_port;
  const std::string address = listener.BoundAddress();
  if (!options->port_file.empty() && !tp::WritePortFile(options->port_file, port, error)) {
    spdlog::error("{}", error);
    return 1;
  }
  tp::bench::ProxyAcceptor acceptor(std::move(listener), options->target,
                                    std::chrono::milliseconds(options->delay_ms));
  std::cout << "listening on " << address << std::endl;
  spdlog::info("relaying to {} with {} ms each way", tp::HostPortText(options->target),
               options->delay_ms);
  shutdown_signal.Wait();
  acceptor.Stop();
  return 0;
}
