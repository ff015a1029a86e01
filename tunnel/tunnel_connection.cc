#include "tunnel/tunnel_connection.h"

#include <thread>

#include "sync/mutex.h"
#include "tunnel/tunnel_link.h"

namespace tp::tunnel {

using detail::StreamPhase;
using detail::StreamState;
using detail::TunnelLink;

TunnelConnection::TunnelConnection(std::shared_ptr<TunnelLink> link) : link_(std::move(link)) {}

std::unique_ptr<TunnelConnection> TunnelConnection::Start(UniqueFd socket, Role role,
                                                          TunnelHandlers handlers,
                                                          ConnectionOptions options) {
  auto link = std::make_shared<TunnelLink>(std::move(socket), role, std::move(handlers),
                                           std::move(options));
  std::unique_ptr<TunnelConnection> connection(new TunnelConnection(link));
  connection->reader_ = std::thread([link] { link->ReadLoop(); });
  connection->writer_ = std::thread([link] { link->WriteLoop(); });
  return connection;
}

TunnelConnection::~TunnelConnection() {
  Close("connection closed locally");
  reader_.join();
  writer_.join();
}

std::unique_ptr<TunnelStream> TunnelConnection::OpenTcpEarly(const std::string& host, uint16_t port,
                                                             Deadline answer_deadline) {
  std::shared_ptr<StreamState> state = link_->NewLocalStream();
  std::unique_ptr<TunnelStream> stream(new TunnelStream(state, link_));
  {
    MutexLock lock(state->mutex);
    state->open_sent = detail::Clock::now();
    state->answer_deadline = answer_deadline;
  }
  // Sent before any of the stream's Data: control frames never fall behind data frames.
  if (!link_->SendControl({state->id, tunnel::OpenTcp{host, port}})) {
    state->Fail(ECONNRESET, "tunnel lost: " + link_->FailureReason());
  }
  return stream;
}

OpenResult TunnelConnection::OpenTcp(const std::string& host, uint16_t port, Deadline deadline) {
  std::unique_ptr<TunnelStream> stream = OpenTcpEarly(host, port, deadline);
  const std::shared_ptr<StreamState>& state = stream->state_;
  MutexLock lock(state->mutex);
  const bool answered = state->WaitUntil(
      deadline, [&]() REQUIRES(state->mutex) { return state->phase != StreamPhase::kOpening; });
  if (!answered) {
    lock.Unlock();
    return {nullptr, ETIMEDOUT, "no answer from the traffic-manager in time"};  // resets it
  }
  if (state->phase == StreamPhase::kFailed) {
    OpenResult failed{nullptr, state->error, state->failure_reason};
    lock.Unlock();
    return failed;
  }
  lock.Unlock();
  return {std::move(stream), 0, ""};
}

bool TunnelConnection::SendUdpDatagram(uint32_t flow_id, UdpDatagram datagram, Deadline deadline) {
  return link_->SendDataFrame({flow_id, std::move(datagram)}, deadline) == 0;
}

bool TunnelConnection::SendUdpReply(uint32_t flow_id, UdpReply reply, Deadline deadline) {
  return link_->SendDataFrame({flow_id, std::move(reply)}, deadline) == 0;
}

DnsResult TunnelConnection::QueryDns(std::span<const uint8_t> message, Deadline deadline) {
  return link_->QueryDns(message, deadline);
}

bool TunnelConnection::SendDnsAnswer(uint32_t query_id, DnsAnswer answer, Deadline deadline) {
  return link_->SendDataFrame({query_id, std::move(answer)}, deadline) == 0;
}

bool TunnelConnection::SendSubnetsChanged(std::vector<std::string> subnets) {
  return link_->SendControl({0, SubnetsChanged{std::move(subnets)}});
}

CallResult TunnelConnection::Call(std::string body, Deadline deadline) {
  return link_->Call(std::move(body), deadline);
}

bool TunnelConnection::SendReply(uint32_t request_id, Reply reply, Deadline deadline) {
  return link_->SendDataFrame({request_id, std::move(reply)}, deadline) == 0;
}

void TunnelConnection::Close(const std::string& reason) { link_->Break(reason); }
bool TunnelConnection::Dead() const { return link_->Dead(); }
bool TunnelConnection::WaitUntilDead(Deadline deadline) const {
  return link_->WaitUntilDead(deadline);
}
std::string TunnelConnection::FailureReason() const { return link_->FailureReason(); }
size_t TunnelConnection::OpenStreamCount() const { return link_->StreamCount(); }

}  // namespace tp::tunnel
