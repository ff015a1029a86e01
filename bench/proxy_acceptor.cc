#include "bench/proxy_acceptor.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace tp::bench {
namespace {

constexpr std::chrono::seconds kConnectTimeout{10};

}  // namespace

ProxyAcceptor::ProxyAcceptor(TcpListener listener, HostPort target, Clock::duration delay)
    : listener_(std::move(listener)), target_(std::move(target)), delay_(delay) {
  // The accept thread blocks in accept(); Stop() wakes it with shutdown().
  const int flags = fcntl(listener_.socket.Get(), F_GETFL);
  fcntl(listener_.socket.Get(), F_SETFL, flags & ~O_NONBLOCK);
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

ProxyAcceptor::~ProxyAcceptor() { Stop(); }

void ProxyAcceptor::Stop() {
  if (stopping_.exchange(true)) return;
  ::shutdown(listener_.socket.Get(), SHUT_RDWR);
  accept_thread_.join();
  connections_.clear();  // each destructor aborts and joins its threads
}

void ProxyAcceptor::AcceptLoop() {
  while (!stopping_.load()) {
    UniqueFd client(accept4(listener_.socket.Get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (!client.Valid()) {
      if (stopping_.load()) return;
      if (errno == EINTR || errno == ECONNABORTED) continue;
      spdlog::error("accept: {}", std::strerror(errno));
      return;
    }
    ForgetFinished();
    Relay(std::move(client));
  }
}

void ProxyAcceptor::Relay(UniqueFd client) {
  DialResult dial = DialTcp(target_, std::chrono::steady_clock::now() + kConnectTimeout);
  if (!dial.socket.Valid()) {
    spdlog::warn("{}; closing the client", dial.message);
    return;
  }
  UniqueFd server = std::move(dial.socket);
  EnableNoDelay(client.Get());
  spdlog::debug("relaying a connection to {}", HostPortText(target_));
  connections_.push_back(
      std::make_unique<ProxyConnection>(std::move(client), std::move(server), delay_));
}

void ProxyAcceptor::ForgetFinished() {
  connections_.remove_if([](const auto& connection) { return connection->Finished(); });
}

}  // namespace tp::bench
