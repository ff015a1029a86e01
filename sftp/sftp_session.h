// SftpSession is one SFTP v3 conversation over a plain TCP connection (no SSH layer), as served
// by OpenSSH's sftp-server behind a TCP listener. Many requests may be in flight at once: each
// gets an id, a reader thread matches replies to them. Every wait has a deadline; when the link
// fails or a request times out, the session is broken for good and every pending and later
// request fails with EIO at once. SftpConnection replaces broken sessions by new ones.
// Thread-safe. Packets reach the socket through one writer at a time without a lock held across
// send(): see Transmit.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "net/unique_fd.h"
#include "sftp/handle_predictor.h"
#include "sftp/sftp_protocol.h"
#include "sync/mutex.h"

namespace tp::sftp {

// Allocates bytes without zeroing them: a reply's buffer is overwritten by the socket anyway.
template <typename T>
struct UninitializedAllocator : std::allocator<T> {
  template <typename U>
  struct rebind {
    using other = UninitializedAllocator<U>;
  };
  template <typename U>
  void construct(U* place) noexcept {
    ::new (static_cast<void*>(place)) U;
  }
  template <typename U, typename... Args>
  void construct(U* place, Args&&... args) {
    ::new (static_cast<void*>(place)) U(std::forward<Args>(args)...);
  }
};
using PacketBytes = std::vector<uint8_t, UninitializedAllocator<uint8_t>>;

// The answer to one request: the packet after its length field (type byte, id, payload), or a
// local error (`error` != 0: EIO when the session broke or timed out).
struct SftpReply {
  int error = 0;
  PacketBytes packet;

  PacketType type() const { return static_cast<PacketType>(packet.empty() ? 0 : packet[0]); }
  // A reader positioned after the type and id.
  PacketReader Payload() const;
  // 0 when the reply is of type `expected` (or a STATUS OK/EOF when a STATUS is expected);
  // otherwise the errno: the local error, the mapped STATUS code, ENODATA for an EOF where data
  // was expected, EBADMSG for a reply of another type.
  int Errno(PacketType expected = PacketType::kStatus) const;
  // The STATUS code when this is a STATUS reply.
  StatusCode Status() const;
};

using PendingReply = std::future<SftpReply>;

struct SessionOptions {
  std::string host;
  uint16_t port = 0;
  std::string token{};  // when set, the SFTP preface for it goes first (common/sftp_preface.h)
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds request_timeout{4000};
};

class SftpSession {
 public:
  // Connects, sends INIT and reads VERSION. On failure returns nullptr and a sentence in *error.
  static std::shared_ptr<SftpSession> Connect(const SessionOptions& options, std::string* error);
  ~SftpSession();
  SftpSession(const SftpSession&) = delete;
  SftpSession& operator=(const SftpSession&) = delete;

  // Sends a request of `type`: the session writes the id, `fill` writes the rest. Returns once its
  // bytes are on the socket (see Transmit).
  PendingReply Send(PacketType type, const std::function<void(PacketWriter&)>& fill,
                    size_t payload_size_hint = 64);
  // Send in two steps, for callers that record the reply under a lock of their own and must not
  // send while holding it: Prepare registers the request and builds its bytes (no I/O, never
  // blocks); Transmit sends them (as Send does). Requests reach the server in the order of their
  // Transmit calls. A prepared request that is never transmitted times out like a lost one.
  //
  // Transmit queues the bytes and returns once they are on the socket (or dropped because the
  // session broke): the back-pressure of a plain blocking send. The caller that finds no writer
  // at work becomes the writer and sends everything queued so far, its own packets included, with
  // no lock held and as few system calls as the socket takes (one sendmsg for many packets); the
  // others wait for it. A send that makes no progress for the request timeout breaks the session,
  // and a writer on a broken session drops what it took. Transmitting several packets in one call
  // keeps them together in that order.
  struct Outgoing {
    std::vector<uint8_t> bytes;  // empty when the session was already broken
    // Sent right after `bytes`, from the caller's memory (PacketWriter::TrailingBytes): it must
    // stay valid until Transmit returns.
    std::span<const uint8_t> trailer;
  };
  PendingReply Prepare(PacketType type, const std::function<void(PacketWriter&)>& fill,
                       Outgoing* outgoing, size_t payload_size_hint = 64);
  void Transmit(const Outgoing& outgoing) EXCLUDES(send_mutex_) { Transmit({&outgoing, 1}); }
  void Transmit(std::span<const Outgoing> outgoing) EXCLUDES(send_mutex_);
  // Transmits an OPEN or OPENDIR (`open`, prepared), then `along`, in one batch. When the
  // session can tell which handle the server will answer `open` with (HandlePredictor: OpenSSH's
  // sftp-server), it first calls `follow` with that handle, under the send lock, and sends what
  // `follow` prepares right behind the open, in the same round trip. Returns the predicted
  // handle, or nothing (then `follow` was not called).
  //
  // A prediction can be wrong (an open in flight failed): then the requests that followed reach
  // another handle of the server, or none. So `follow` may prepare only requests without effect
  // on the server (READ, READDIR, FSTAT), and the caller may use their replies only when the
  // open's reply names the predicted handle. `follow` must not transmit.
  using FollowOpen = std::function<void(const std::string& handle, std::vector<Outgoing>* follow)>;
  std::optional<std::string> TransmitOpen(const Outgoing& open, std::span<const Outgoing> along,
                                          const FollowOpen& follow) EXCLUDES(send_mutex_);
  // Waits for `reply` until the request timeout; a timeout breaks the session (EIO).
  SftpReply Await(PendingReply& reply);
  // Waits until `reply` is ready, with Await's deadline. The server answers in order, so waiting
  // for the last of several requests first costs one wake-up where waiting for each costs many.
  void AwaitReady(const PendingReply& reply);
  // Send + Await.
  SftpReply Call(PacketType type, const std::function<void(PacketWriter&)>& fill);
  // Sends an SSH_FXP_EXTENDED request named `name`.
  PendingReply SendExtended(std::string_view name, const std::function<void(PacketWriter&)>& fill);

  bool HasExtension(const std::string& name) const { return extensions_.count(name) != 0; }
  bool broken() const { return broken_.load(); }
  // Fails every pending request with EIO and refuses new ones. Idempotent.
  void Break(const std::string& reason);
  std::string Describe() const;  // "host:port"

 private:
  SftpSession(SessionOptions options, UniqueFd socket, std::map<std::string, std::string> ext);
  void ReadReplies();
  // Receives exactly `size` bytes; breaks the session and returns false on failure.
  bool ReceiveInto(uint8_t* data, size_t size);
  // Sends all of `packets` (only the writer of Transmit calls it), many per sendmsg; false with
  // errno on failure.
  bool SendAll(const std::deque<const Outgoing*>& packets);
  // Puts `outgoing` on the send queue and shows the handle model its opens and closes; returns
  // the prediction for an OPEN or OPENDIR.
  std::optional<std::string> Enqueue(const Outgoing& outgoing) REQUIRES(send_mutex_);
  // Returns once every packet queued so far is sent or dropped, sending them if no one else is.
  void SendQueued(MutexLock& lock) REQUIRES(send_mutex_);
  void Deliver(PacketBytes packet);

  const SessionOptions options_;
  UniqueFd socket_;
  const std::map<std::string, std::string> extensions_;
  std::atomic<bool> broken_{false};
  std::atomic<uint32_t> next_id_{1};

  // The send queue (see Transmit). Packets are numbered in queue order: those up to sent_ are
  // sent or dropped, and the queue holds the ones after those the writer took. An entry points at
  // its Transmit caller's bytes, which wait until the entry is done.
  Mutex send_mutex_;
  CondVar send_done_;  // with send_mutex_: sent_ grew
  std::deque<const Outgoing*> send_queue_ GUARDED_BY(send_mutex_);
  uint64_t queued_ GUARDED_BY(send_mutex_) = 0;  // the number of the last packet queued
  uint64_t sent_ GUARDED_BY(send_mutex_) = 0;
  bool writing_ GUARDED_BY(send_mutex_) = false;  // a Transmit call is sending a batch

  // What the server's handle table will be (taken inside send_mutex_ when it is held).
  Mutex predictor_mutex_;
  HandlePredictor predictor_ GUARDED_BY(predictor_mutex_);

  Mutex pending_mutex_;
  std::map<uint32_t, std::promise<SftpReply>> pending_ GUARDED_BY(pending_mutex_);

  std::thread reader_;
};

// SftpConnection keeps a live SftpSession to one server: it connects on first use and again
// after the session broke, one attempt at a time and at most one every `retry_interval`, so that
// with the server gone callers fail fast and with the server back they work again at once.
// Callers that arrive during an attempt wait for its outcome (at most the connect timeout); the
// attempt itself holds no lock. Thread-safe.
class SftpConnection {
 public:
  explicit SftpConnection(SessionOptions options, std::chrono::milliseconds retry_interval =
                                                      std::chrono::milliseconds(300));
  ~SftpConnection();

  // The live session, or nullptr (with a sentence in *error when given) if none can be had now.
  std::shared_ptr<SftpSession> Session(std::string* error = nullptr);
  const SessionOptions& options() const { return options_; }

 private:
  const SessionOptions options_;
  const std::chrono::milliseconds retry_interval_;
  Mutex state_mutex_;
  CondVar attempt_ended_;  // with state_mutex_: `connecting_` turned false
  bool connecting_ GUARDED_BY(state_mutex_) = false;
  std::shared_ptr<SftpSession> current_ GUARDED_BY(state_mutex_);
  std::chrono::steady_clock::time_point last_failure_ GUARDED_BY(state_mutex_);
  std::string last_error_ GUARDED_BY(state_mutex_);
};

}  // namespace tp::sftp
