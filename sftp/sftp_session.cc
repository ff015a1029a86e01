#include "sftp/sftp_session.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "common/sftp_preface.h"
#include "net/resolve.h"
#include "net/tcp_socket.h"
#include "sync/mutex.h"

namespace tp::sftp {
namespace {

using Clock = std::chrono::steady_clock;

// How much longer than the connect timeout a caller waits for another caller's attempt.
constexpr std::chrono::milliseconds kAttemptMargin{500};

// Reads exactly `size` bytes before the deadline (used only during the handshake).
bool ReadExactly(int fd, uint8_t* data, size_t size, Clock::time_point deadline) {
  while (size > 0) {
    pollfd waiter{fd, POLLIN, 0};
    if (::poll(&waiter, 1, MillisecondsUntil(deadline)) != 1) return false;
    ssize_t n = ::recv(fd, data, size, 0);
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

uint32_t BigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         bytes[3];
}

// Sends INIT and reads VERSION; returns the server's extensions or sets *error.
bool Handshake(int fd, Clock::time_point deadline, std::map<std::string, std::string>* extensions,
               std::string* error) {
  auto init = std::move(PacketWriter(PacketType::kInit).U32(kProtocolVersion)).Finish();
  if (::send(fd, init.data(), init.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(init.size())) {
    *error = "cannot send SFTP init";
    return false;
  }
  uint8_t header[4];
  if (!ReadExactly(fd, header, 4, deadline)) {
    *error = "no SFTP version reply (is this an SFTP server?)";
    return false;
  }
  const uint32_t length = BigEndian32(header);
  if (length < 5 || length > 64 * 1024) {
    *error = "malformed SFTP version reply (is this an SFTP server?)";
    return false;
  }
  std::vector<uint8_t> body(length);
  if (!ReadExactly(fd, body.data(), length, deadline)) {
    *error = "truncated SFTP version reply";
    return false;
  }
  PacketReader reader(body);
  if (reader.U8() != static_cast<uint8_t>(PacketType::kVersion)) {
    *error = "server did not answer SFTP init with a version (is this an SFTP server?)";
    return false;
  }
  const uint32_t version = reader.U32();
  if (version != kProtocolVersion) {
    *error = "server speaks SFTP version " + std::to_string(version) + ", we need 3";
    return false;
  }
  while (reader.ok() && !reader.AtEnd()) {
    std::string name = reader.String();
    std::string data = reader.String();
    if (reader.ok()) (*extensions)[name] = data;
  }
  return true;
}

}  // namespace

PacketReader SftpReply::Payload() const {
  PacketReader reader(packet);
  reader.U8();
  reader.U32();
  return reader;
}

StatusCode SftpReply::Status() const {
  if (error != 0 || type() != PacketType::kStatus) return StatusCode::kFailure;
  return static_cast<StatusCode>(Payload().U32());
}

int SftpReply::Errno(PacketType expected) const {
  if (error != 0) return error;
  if (type() == PacketType::kStatus) {
    const StatusCode status = Status();
    if (expected == PacketType::kStatus) return StatusToErrno(status);
    // A STATUS where data was expected: OK is a protocol error, EOF means no data.
    if (status == StatusCode::kOk) return EBADMSG;
    if (status == StatusCode::kEof) return ENODATA;
    return StatusToErrno(status);
  }
  return type() == expected ? 0 : EBADMSG;
}

std::shared_ptr<SftpSession> SftpSession::Connect(const SessionOptions& options,
                                                  std::string* error) {
  const auto deadline = Clock::now() + options.connect_timeout;
  DialResult dial = DialTcp(options.host, options.port, deadline);
  if (!dial.socket.Valid()) {
    *error = dial.message;
    return nullptr;
  }
  UniqueFd fd = std::move(dial.socket);
  if (!options.token.empty()) {
    const std::string preface = SftpPreface(options.token);
    if (::send(fd.Get(), preface.data(), preface.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(preface.size())) {
      *error = options.host + ":" + std::to_string(options.port) + ": cannot send the preface";
      return nullptr;
    }
  }
  std::map<std::string, std::string> extensions;
  if (!Handshake(fd.Get(), deadline, &extensions, error)) {
    *error = options.host + ":" + std::to_string(options.port) + ": " + *error;
    if (!options.token.empty()) *error += "; or it refused the volume's token";
    return nullptr;
  }
  timeval send_timeout{};
  send_timeout.tv_sec = options.request_timeout.count() / 1000;
  send_timeout.tv_usec = (options.request_timeout.count() % 1000) * 1000;
  ::setsockopt(fd.Get(), SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
  return std::shared_ptr<SftpSession>(
      new SftpSession(options, std::move(fd), std::move(extensions)));
}

SftpSession::SftpSession(SessionOptions options, UniqueFd socket,
                         std::map<std::string, std::string> extensions)
    : options_(std::move(options)),
      socket_(std::move(socket)),
      extensions_(std::move(extensions)),
      reader_([this] { ReadReplies(); }) {
  spdlog::debug("sftp {}: connected", Describe());
}

SftpSession::~SftpSession() {
  Break("session closed");
  reader_.join();
}

std::string SftpSession::Describe() const {
  return options_.host + ":" + std::to_string(options_.port);
}

void SftpSession::Break(const std::string& reason) {
  if (broken_.exchange(true)) return;
  spdlog::info("sftp {}: connection lost: {}", Describe(), reason);
  ::shutdown(socket_.Get(), SHUT_RDWR);
  std::map<uint32_t, std::promise<SftpReply>> failed;
  {
    MutexLock lock(pending_mutex_);
    failed.swap(pending_);
  }
  for (auto& [id, promise] : failed) promise.set_value(SftpReply{EIO, {}});
}

bool SftpSession::SendAll(const std::deque<const Outgoing*>& packets) {
  // Each packet is one or two pieces (its bytes, its trailer); up to kMaxPieces go per sendmsg,
  // and a partial send resumes inside the piece it stopped in.
  constexpr size_t kMaxPieces = 64;
  std::vector<std::span<const uint8_t>> pieces;
  pieces.reserve(packets.size() * 2);
  for (const Outgoing* packet : packets) {
    pieces.emplace_back(packet->bytes);
    if (!packet->trailer.empty()) pieces.push_back(packet->trailer);
  }
  size_t next = 0;     // the first piece not yet (wholly) sent
  size_t done_in = 0;  // bytes of pieces[next] already sent
  while (next < pieces.size()) {
    iovec vector[kMaxPieces];
    size_t count = 0;
    for (size_t i = next; i < pieces.size() && count < kMaxPieces; ++i, ++count) {
      const size_t skip = i == next ? done_in : 0;
      vector[count].iov_base = const_cast<uint8_t*>(pieces[i].data() + skip);
      vector[count].iov_len = pieces[i].size() - skip;
    }
    msghdr message{};
    message.msg_iov = vector;
    message.msg_iovlen = count;
    ssize_t n = ::sendmsg(socket_.Get(), &message, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    size_t sent = static_cast<size_t>(n);
    while (sent > 0) {
      const size_t left = pieces[next].size() - done_in;
      if (sent < left) {
        done_in += sent;
        break;
      }
      sent -= left;
      ++next;
      done_in = 0;
    }
  }
  return true;
}

PendingReply SftpSession::Prepare(PacketType type, const std::function<void(PacketWriter&)>& fill,
                                  Outgoing* outgoing, size_t payload_size_hint) {
  const uint32_t id = next_id_.fetch_add(1);
  PacketWriter writer(type, payload_size_hint + 4);
  writer.U32(id);
  fill(writer);
  const std::span<const uint8_t> trailer = writer.trailer();
  std::vector<uint8_t> bytes = std::move(writer).Finish();

  std::promise<SftpReply> promise;
  PendingReply reply = promise.get_future();
  MutexLock lock(pending_mutex_);
  if (broken_.load()) {
    promise.set_value(SftpReply{EIO, {}});
    outgoing->bytes.clear();
    outgoing->trailer = {};
    return reply;
  }
  pending_.emplace(id, std::move(promise));
  outgoing->bytes = std::move(bytes);
  outgoing->trailer = trailer;
  return reply;
}

std::optional<std::string> SftpSession::Enqueue(const Outgoing& outgoing) {
  const std::vector<uint8_t>& bytes = outgoing.bytes;
  if (bytes.empty()) return std::nullopt;
  send_queue_.push_back(&outgoing);
  ++queued_;
  // After the length: type, id and, for a CLOSE, its handle.
  PacketReader reader(std::span<const uint8_t>(bytes).subspan(4));
  const auto type = static_cast<PacketType>(reader.U8());
  const uint32_t id = reader.U32();
  if (!reader.ok()) return std::nullopt;
  if (type == PacketType::kOpen || type == PacketType::kOpendir) {
    MutexLock lock(predictor_mutex_);
    return predictor_.OpenSent(id);
  }
  if (type == PacketType::kClose) {
    const std::span<const uint8_t> handle = reader.StringBytes();
    MutexLock lock(predictor_mutex_);
    predictor_.CloseSent(id, handle);
  }
  return std::nullopt;
}

void SftpSession::SendQueued(MutexLock& lock) {
  const uint64_t mine = queued_;
  while (sent_ < mine) {
    if (writing_) {
      send_done_.Wait(send_mutex_);
      continue;
    }
    // Become the writer: take the whole queue (it holds ours), send it without the lock.
    writing_ = true;
    std::deque<const Outgoing*> batch;
    batch.swap(send_queue_);
    const uint64_t last = sent_ + batch.size();
    lock.Unlock(send_mutex_);
    // On a broken session the batch is dropped: its requests failed with EIO.
    if (!broken_.load() && !SendAll(batch)) {
      Break(std::string("send failed: ") + std::strerror(errno));
    }
    lock.Lock(send_mutex_);
    sent_ = last;
    writing_ = false;
    send_done_.NotifyAll();
  }
}

void SftpSession::Transmit(std::span<const Outgoing> outgoing) {
  MutexLock lock(send_mutex_);
  for (const Outgoing& packet : outgoing) Enqueue(packet);
  SendQueued(lock);
}

std::optional<std::string> SftpSession::TransmitOpen(const Outgoing& open,
                                                     std::span<const Outgoing> along,
                                                     const FollowOpen& follow) {
  std::vector<Outgoing> followers;  // queued by address: must outlive SendQueued
  MutexLock lock(send_mutex_);
  std::optional<std::string> predicted = Enqueue(open);
  if (predicted) follow(*predicted, &followers);
  for (const Outgoing& packet : along) Enqueue(packet);
  for (const Outgoing& packet : followers) Enqueue(packet);
  SendQueued(lock);
  return predicted;
}

PendingReply SftpSession::Send(PacketType type, const std::function<void(PacketWriter&)>& fill,
                               size_t payload_size_hint) {
  Outgoing outgoing;
  PendingReply reply = Prepare(type, fill, &outgoing, payload_size_hint);
  Transmit(outgoing);
  return reply;
}

PendingReply SftpSession::SendExtended(std::string_view name,
                                       const std::function<void(PacketWriter&)>& fill) {
  return Send(PacketType::kExtended, [&](PacketWriter& writer) {
    writer.String(name);
    fill(writer);
  });
}

void SftpSession::AwaitReady(const PendingReply& reply) {
  if (reply.wait_for(options_.request_timeout) != std::future_status::ready) {
    Break("no reply within " + std::to_string(options_.request_timeout.count()) + " ms");
  }
}

SftpReply SftpSession::Await(PendingReply& reply) {
  AwaitReady(reply);
  return reply.get();
}

SftpReply SftpSession::Call(PacketType type, const std::function<void(PacketWriter&)>& fill) {
  PendingReply reply = Send(type, fill);
  return Await(reply);
}

void SftpSession::Deliver(PacketBytes packet) {
  if (packet.size() < 5) {
    Break("reply too short");
    return;
  }
  const uint32_t id = BigEndian32(packet.data() + 1);
  {
    MutexLock lock(predictor_mutex_);
    predictor_.ReplyReceived(id, packet);
  }
  std::promise<SftpReply> promise;
  {
    MutexLock lock(pending_mutex_);
    auto it = pending_.find(id);
    if (it == pending_.end()) {
      spdlog::debug("sftp {}: reply for unknown request {}", Describe(), id);
      return;
    }
    promise = std::move(it->second);
    pending_.erase(it);
  }
  promise.set_value(SftpReply{0, std::move(packet)});
}

bool SftpSession::ReceiveInto(uint8_t* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::recv(socket_.Get(), data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Break(n == 0 ? "server closed the connection" : std::string(std::strerror(errno)));
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

void SftpSession::ReadReplies() {
  // Small replies are parsed out of one buffer to keep system calls few; the rest of a large
  // one (file data) is received straight into its own packet, saving a copy.
  constexpr size_t kDirectThreshold = 32 * 1024;
  std::vector<uint8_t> buffer(256 * 1024);
  size_t begin = 0, end = 0;
  while (!broken_.load()) {
    while (end - begin >= 4) {
      const uint32_t length = BigEndian32(buffer.data() + begin);
      if (length == 0 || length > kMaxPacketLength) {
        Break("malformed reply length " + std::to_string(length));
        return;
      }
      const size_t available = end - begin - 4;
      const uint8_t* start = buffer.data() + begin + 4;
      if (available >= length) {
        Deliver(PacketBytes(start, start + length));
        begin += 4 + length;
        continue;
      }
      if (length < kDirectThreshold) break;  // wait for the rest in the buffer
      PacketBytes packet(length);
      std::memcpy(packet.data(), start, available);
      begin = end = 0;
      if (!ReceiveInto(packet.data() + available, length - available)) return;
      Deliver(std::move(packet));
    }
    if (begin == end) {
      begin = end = 0;
    } else if (begin > 0 && buffer.size() - end < kDirectThreshold) {
      std::memmove(buffer.data(), buffer.data() + begin, end - begin);
      end -= begin;
      begin = 0;
    }
    ssize_t n = ::recv(socket_.Get(), buffer.data() + end, buffer.size() - end, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      Break(n == 0 ? "server closed the connection" : std::string(std::strerror(errno)));
      return;
    }
    end += static_cast<size_t>(n);
  }
}

SftpConnection::SftpConnection(SessionOptions options, std::chrono::milliseconds retry_interval)
    : options_(std::move(options)), retry_interval_(retry_interval) {}

SftpConnection::~SftpConnection() = default;

std::shared_ptr<SftpSession> SftpConnection::Session(std::string* error) {
  MutexLock lock(state_mutex_);
  if (current_ && !current_->broken()) return current_;
  if (connecting_) {
    // Another caller is connecting: take its outcome. Its attempt ends by the connect timeout.
    const bool ended =
        attempt_ended_.WaitFor(state_mutex_, options_.connect_timeout + kAttemptMargin,
                               [&]() REQUIRES(state_mutex_) { return !connecting_; });
    if (current_ && !current_->broken()) return current_;
    if (error) *error = ended ? last_error_ : "connection attempt did not end in time";
    return nullptr;
  }
  if (Clock::now() - last_failure_ < retry_interval_) {
    if (error) *error = last_error_;
    return nullptr;
  }
  connecting_ = true;
  lock.Unlock();
  std::string reason;
  std::shared_ptr<SftpSession> session = SftpSession::Connect(options_, &reason);
  std::shared_ptr<SftpSession> previous;  // let go of after the lock: its end joins a thread
  lock.Lock();
  connecting_ = false;
  attempt_ended_.NotifyAll();
  if (!session) {
    if (last_error_ != reason) spdlog::warn("sftp: {}", reason);
    last_failure_ = Clock::now();
    last_error_ = reason;
    if (error) *error = reason;
    return nullptr;
  }
  if (current_) spdlog::info("sftp {}: reconnected", session->Describe());
  previous = std::exchange(current_, session);
  last_error_.clear();
  lock.Unlock();
  return session;
}

}  // namespace tp::sftp
