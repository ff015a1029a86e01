// udp-exchange: sends one UDP datagram and prints the first reply. For tests and demos that need
// a UDP round trip from inside a container (busybox's nc has no UDP mode).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

#include "net/unique_fd.h"

namespace {

constexpr std::string_view kUsage =
    "usage: udp-exchange IPV4 PORT MESSAGE [TIMEOUT_MS]\n"
    "\n"
    "Sends MESSAGE in one datagram to IPV4:PORT and prints the first datagram that comes back,\n"
    "with the address it came from on stderr. Exits 1 when nothing comes back within\n"
    "TIMEOUT_MS (default 3000), 2 on bad arguments.\n";

template <typename Number>
std::optional<Number> ParseNumber(std::string_view text, Number low, Number high) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < low || value > high) {
    return std::nullopt;
  }
  return value;
}

int Usage(std::string_view error) {
  std::cerr << "udp-exchange: " << error << "\n\n" << kUsage;
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "--help") {
    std::cout << kUsage;
    return 0;
  }
  if (argc != 4 && argc != 5) return Usage("wrong number of arguments");
  sockaddr_in destination{};
  destination.sin_family = AF_INET;
  if (::inet_pton(AF_INET, argv[1], &destination.sin_addr) != 1) {
    return Usage("not an IPv4 address: " + std::string(argv[1]));
  }
  const auto port = ParseNumber<int>(argv[2], 1, 65535);
  if (!port) return Usage("not a port: " + std::string(argv[2]));
  destination.sin_port = htons(static_cast<uint16_t>(*port));
  const auto timeout_ms = argc == 5 ? ParseNumber<int>(argv[4], 1, 600000) : 3000;
  if (!timeout_ms) return Usage("not a timeout in milliseconds: " + std::string(argv[4]));

  tp::UniqueFd socket(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  const std::string_view message = argv[3];
  if (!socket.Valid() ||
      ::sendto(socket.Get(), message.data(), message.size(), 0,
               reinterpret_cast<const sockaddr*>(&destination), sizeof destination) < 0) {
    std::cerr << "udp-exchange: cannot send: " << std::strerror(errno) << "\n";
    return 1;
  }
  pollfd wait{socket.Get(), POLLIN, 0};
  if (::poll(&wait, 1, *timeout_ms) != 1) {
    std::cerr << "udp-exchange: no reply from " << argv[1] << ":" << *port << " within "
              << *timeout_ms << " ms\n";
    return 1;
  }
  std::string reply(65536, '\0');
  sockaddr_in source{};
  socklen_t source_size = sizeof source;
  const ssize_t size = ::recvfrom(socket.Get(), reply.data(), reply.size(), 0,
                                  reinterpret_cast<sockaddr*>(&source), &source_size);
  if (size < 0) {
    std::cerr << "udp-exchange: " << std::strerror(errno) << "\n";
    return 1;
  }
  char source_text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &source.sin_addr, source_text, sizeof source_text);
  // One write: std::cerr is unbuffered, and a line written in pieces interleaves with stdout's
  // where both reach one stream (docker run).
  std::cerr << ("reply from " + std::string(source_text) + ":" +
                std::to_string(ntohs(source.sin_port)) + "\n");
  std::cout << reply.substr(0, static_cast<size_t>(size)) << "\n";
  return 0;
}
