#include "tunnel/tunnel_connection.h"

#include <fcntl.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <map>
#include <mutex>

#include "net/tcp_socket.h"
#include "tunnel/splice_pipe.h"

// How bytes move, and why (CPU per byte is what limits a tunnel on a small machine):
//
// * Sending: the thread that calls TunnelStream::Write sends the frame itself, header and payload
//   in one sendmsg straight from the caller's buffer, when the socket is free and no other data
//   waits. Otherwise the frame is copied into the data queue that the writer thread drains in
//   batches (one sendmsg for many frames), so streams take turns. Control frames are sent at
//   once when the socket is free, else they jump the data queue. Whoever sends ("owns the
//   socket") takes the queued control frames along. A frame begun on the socket is always
//   finished before anything else goes (`partial_`).
// * Receiving: the reader thread decodes frame headers from its own buffer and receives a Data
//   payload straight into the buffer of a TunnelStream::Read that waits for it ("lent"), or else
//   into the stream's ring buffer, with one recvmsg that also takes what follows into its own
//   buffer. Small frames are parsed in place, many per read.
// * Relaying without copies: a relay that reads a stream with ReadToSocket gives it a pipe; the
//   reader thread splices that stream's payloads from the socket into the pipe (page
//   references, no copy), reading the frame headers alone in between, and the relay splices
//   them on to its socket. WriteFromPipe is the sending twin: the frame header goes with
//   MSG_MORE, then the payload is spliced from the relay's pipe into the socket.
// * Wake-ups: condition variables are signalled only when someone waits on them.

namespace tp::tunnel {
namespace {

using Clock = std::chrono::steady_clock;

// Credit goes back to the peer in grants of at least this much, to keep Window frames few.
constexpr size_t kWindowGrantStep = kInitialWindow / 4;
// The writer thread sends at most this much data per batch (control frames come on top).
constexpr size_t kWriteBatchBytes = 512 * 1024;
// Control frames waiting for a peer that does not read: past this, the link is closed.
constexpr size_t kMaxQueuedControlBytes = 8 << 20;
// At most this many data frames per batch, and iovecs per sendmsg (under IOV_MAX).
constexpr size_t kMaxBatchFrames = 256;
constexpr size_t kMaxPiecesPerCall = 1024;
// The reader's own buffer: frame headers, small frames, the odd piece of a payload.
constexpr size_t kReadBufferBytes = 256 * 1024;
// While large Data frames come, a read takes at most this much into the reader's own buffer
// (whence it is copied): the payload after a header is received where it belongs by the next.
constexpr size_t kSmallReadBytes = 16 * 1024;
// A Read that waits is woken at once when this much arrived in its buffer (see WakeReader).
constexpr size_t kEarlyWakeBytes = 64 * 1024;
// A stream's ring buffer starts at this size and is given back when emptied above this size.
constexpr size_t kRingMinBytes = 64 * 1024;
constexpr size_t kRingKeepBytes = 256 * 1024;
// How long CloseWrite waits for room in a full queue before resetting the stream instead.
constexpr std::chrono::seconds kCloseQueueTimeout{10};

}  // namespace

namespace detail {

// Bytes received for a stream and not read yet. Grows on demand (its content never exceeds the
// stream's window); the reader thread may receive into its free space while a Read takes from
// its content, under the stream's lock only for the bookkeeping.
class ByteRing {
 public:
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Makes room for `count` more bytes, keeping the content.
  void Reserve(size_t count) {
    if (capacity_ - size_ >= count) return;
    size_t capacity = std::max(capacity_, kRingMinBytes);
    while (capacity - size_ < count) capacity *= 2;
    auto storage = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    CopyOut(storage.get(), size_);
    storage_ = std::move(storage);
    capacity_ = capacity;
    head_ = 0;
  }
  // Describes up to `count` bytes of free space (Reserve first) as at most two iovecs appended
  // at `out`; returns how many iovecs.
  size_t FreeSpace(size_t count, iovec* out) {
    count = std::min(count, capacity_ - size_);
    const size_t tail = (head_ + size_) % std::max<size_t>(capacity_, 1);
    const size_t first = std::min(count, capacity_ - tail);
    size_t pieces = 0;
    if (first > 0) out[pieces++] = {storage_.get() + tail, first};
    if (count > first) out[pieces++] = {storage_.get(), count - first};
    return pieces;
  }
  // The first `count` bytes of the free space now hold data.
  void Commit(size_t count) { size_ += count; }
  void Append(std::span<const uint8_t> bytes) {
    Reserve(bytes.size());
    iovec pieces[2];
    const size_t count = FreeSpace(bytes.size(), pieces);
    for (size_t index = 0; index < count; ++index) {
      std::memcpy(pieces[index].iov_base, bytes.data(), pieces[index].iov_len);
      bytes = bytes.subspan(pieces[index].iov_len);
    }
    Commit(count > 0 ? pieces[0].iov_len + (count > 1 ? pieces[1].iov_len : 0) : 0);
  }
  // Moves up to into.size() bytes out; returns how many. Leaves the free space where it is (the
  // reader thread may be receiving into it).
  size_t Take(std::span<uint8_t> into) {
    const size_t count = std::min(into.size(), size_);
    if (count == 0) return 0;
    CopyOut(into.data(), count);
    head_ = (head_ + count) % capacity_;
    size_ -= count;
    return count;
  }
  // Describes the content (oldest first) as at most two iovecs at `out`; returns how many.
  size_t Content(iovec* out) const {
    size_t pieces = 0;
    const size_t first = std::min(size_, capacity_ - head_);
    if (first > 0) out[pieces++] = {storage_.get() + head_, first};
    if (size_ > first) out[pieces++] = {storage_.get(), size_ - first};
    return pieces;
  }
  // Forgets the oldest `count` bytes of the content.
  void Drop(size_t count) {
    count = std::min(count, size_);
    if (count == 0) return;
    head_ = (head_ + count) % capacity_;
    size_ -= count;
  }
  // When empty (and nobody receives into the free space): gives the memory back if larger than
  // `keep`, else starts over at its beginning so the free space is in one piece.
  void ResetIfEmpty(size_t keep) {
    if (size_ != 0) return;
    head_ = 0;
    if (capacity_ <= keep) return;
    storage_.reset();
    capacity_ = 0;
  }

 private:
  void CopyOut(uint8_t* to, size_t count) const {
    if (count == 0) return;
    const size_t first = std::min(count, capacity_ - head_);
    std::memcpy(to, storage_.get() + head_, first);
    std::memcpy(to + first, storage_.get(), count - first);
  }

  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

enum class StreamPhase {
  kOpening,    // client: OpenTcp sent, waiting for Opened / OpenFailed
  kAccepting,  // server: OpenTcp received, waiting for the handler's Accept / Refuse
  kOpen,
  kFailed,  // reset, refused, or the tunnel died
};

// Everything about one stream that the reader thread and the stream's users share.
struct StreamState {
  explicit StreamState(uint32_t stream_id, StreamPhase initial) : id(stream_id), phase(initial) {}

  const uint32_t id;
  std::mutex mutex;
  std::condition_variable changed;
  // All below guarded by mutex.
  StreamPhase phase;
  int error = 0;
  std::string failure_reason;
  ByteRing received;
  // The buffer of a Read waiting while `received` is empty: the reader thread puts the stream's
  // next bytes there. `filling`: the reader thread is receiving into `lent` or into the ring's
  // free space right now (without the lock), so neither may go away.
  std::span<uint8_t> lent;
  size_t lent_filled = 0;
  bool filling = false;
  bool filling_lent = false;
  bool filling_pipe = false;
  // Made by the first ReadToSocket: the reader thread splices payloads into it while `received`
  // is empty and no Read lends a buffer; `piped` bytes in it are the stream's next, before any
  // in `received`. The reader may be splicing more in (`filling_pipe`) while a ReadToSocket
  // splices up to `piped` out, both without the lock.
  SplicePipe pipe;
  bool pipe_refused = false;  // no pipe could be made: ReadToSocket copies from `received`
  size_t piped = 0;
  size_t receive_allowance = kInitialWindow;  // bytes the peer may still send
  size_t consumed_since_grant = 0;
  size_t send_credit = kInitialWindow;
  bool peer_closed_write = false;
  bool local_closed_write = false;
  int waiters = 0;  // threads waiting on `changed`

  bool Finished() const {
    return phase == StreamPhase::kFailed || (peer_closed_write && local_closed_write);
  }

  // Waits on `changed`, counted in `waiters` so that wakers can skip the signal when nobody
  // waits. Every wait on `changed` goes through these.
  template <typename Predicate>
  bool WaitUntil(std::unique_lock<std::mutex>& lock, Deadline deadline, Predicate ready) {
    ++waiters;
    const bool result = changed.wait_until(lock, deadline, ready);
    --waiters;
    return result;
  }
  template <typename Predicate>
  void Wait(std::unique_lock<std::mutex>& lock, Predicate ready) {
    ++waiters;
    changed.wait(lock, ready);
    --waiters;
  }
  // With `mutex` held: whether a change must be signalled (after unlocking).
  bool ShouldWake() const { return waiters > 0; }

  // Marks the stream failed (first failure wins) and wakes its waiters. Locks `mutex`.
  void Fail(int error_code, const std::string& reason) {
    {
      std::lock_guard lock(mutex);
      if (phase == StreamPhase::kFailed) return;
      phase = StreamPhase::kFailed;
      error = error_code;
      failure_reason = reason;
    }
    changed.notify_all();
  }
};

// The payload of a data-class frame: bytes in memory, or `pipe_bytes` bytes waiting in the pipe
// `pipe` (read end), which go to the socket with splice(2), without a copy through user space.
struct Payload {
  std::span<const uint8_t> bytes;
  int pipe = -1;
  size_t pipe_bytes = 0;

  bool piped() const { return pipe >= 0; }
  size_t size() const { return piped() ? pipe_bytes : bytes.size(); }
};

// Who is sending on the socket right now (at most one at a time, without the queue lock).
enum class SocketOwner {
  kNone,
  kWriterThread,   // a batch from the queues
  kDirectData,     // a stream's Write (or another data-class frame), waiting for room as needed
  kDirectControl,  // one control frame, never waiting
};

// The Data frame whose payload the reader is receiving.
struct Incoming {
  std::shared_ptr<StreamState> stream;  // null: the stream is gone, its bytes are dropped
  size_t remaining = 0;
};

// The shared core of a connection: the socket, the outgoing queues, the stream table, pending
// DNS queries. Owned by the TunnelConnection and by every stream handle, so a handle that
// outlives its connection still fails cleanly.
class TunnelLink : public std::enable_shared_from_this<TunnelLink> {
 public:
  TunnelLink(UniqueFd socket, Role role, TunnelHandlers handlers, ConnectionOptions options)
      : socket_(std::move(socket)),
        role_(role),
        handlers_(std::move(handlers)),
        options_(std::move(options)),
        next_stream_id_(role == Role::kClient ? 1 : 2),
        last_received_(Clock::now().time_since_epoch().count()) {
    // Every send and receive waits in poll, never in the call: splice(2) honours only this.
    ::fcntl(socket_.Get(), F_SETFL, ::fcntl(socket_.Get(), F_GETFL) | O_NONBLOCK);
  }

  const ConnectionOptions& options() const { return options_; }

  // Sends a control frame now when the socket is free, else queues it ahead of all data: never
  // waits. False when the link is dead.
  bool SendControl(const Frame& frame) {
    std::vector<uint8_t> bytes = EncodeFrame(frame);
    std::unique_lock lock(queue_mutex_);
    if (dead_.load()) return false;
    if (!FreeForDirectLocked() || !control_queue_.empty()) {
      if (control_queue_bytes_ + bytes.size() > kMaxQueuedControlBytes) {
        // A peer that reads nothing while it makes us answer (pongs, window updates, refusals)
        // would grow this queue without end: the link goes instead.
        lock.unlock();
        Break("the peer reads nothing: " + std::to_string(control_queue_bytes_) +
              " bytes of control frames wait");
        return false;
      }
      control_queue_bytes_ += bytes.size();
      control_queue_.push_back(std::move(bytes));
      WakeWriterAndUnlock(lock);
      return true;
    }
    owner_ = SocketOwner::kDirectControl;
    lock.unlock();
    iovec piece{bytes.data(), bytes.size()};
    int error = 0;
    const size_t sent = SendPieces(std::span(&piece, 1), false, Deadline::max(), error);
    lock.lock();
    if (error != 0 && error != EAGAIN) return SendFailed(lock, error) == 0;
    if (sent == 0) {
      control_queue_bytes_ += bytes.size();
      control_queue_.push_front(std::move(bytes));
    } else if (sent < bytes.size()) {
      partial_.assign(bytes.begin() + static_cast<std::ptrdiff_t>(sent), bytes.end());
    }
    ReleaseSocket(lock);
    return true;
  }

  // Sends one data-class frame, `header` then `payload` (either may be empty): straight from
  // the caller's memory (or pipe) when the socket is free and no data waits, else copied (or
  // moved from `owned`, which then holds header + payload) into the data queue. Waits for the
  // socket or for room in the queue until `deadline`. Returns 0 (the frame will go out whole;
  // a piped payload has left its pipe), ETIMEDOUT (none of it will; a piped payload is still
  // in its pipe), EIO (the pipe held less than said) or ECONNRESET.
  int SendData(std::span<const uint8_t> header, Payload payload, Deadline deadline,
               std::vector<uint8_t>* owned = nullptr) {
    const size_t size = header.size() + payload.size();
    std::unique_lock lock(queue_mutex_);
    while (true) {
      if (dead_.load()) return ECONNRESET;
      if (FreeForDirectLocked()) return SendDirect(lock, header, payload, deadline);
      // Queue behind another stream sending, or behind data queued already, so that streams
      // take turns. When only the writer thread (or a control frame) holds the socket and
      // nothing is queued, this frame is next anyway: wait for the socket rather than copy.
      const bool queue = owner_ == SocketOwner::kDirectData || !data_queue_.empty();
      if (queue &&
          (queued_data_bytes_ == 0 || queued_data_bytes_ + size <= options_.max_queued_bytes)) {
        std::vector<uint8_t> bytes;
        if (owned != nullptr) {
          bytes = std::move(*owned);
        } else {
          bytes.reserve(size);
          bytes.insert(bytes.end(), header.begin(), header.end());
          bytes.insert(bytes.end(), payload.bytes.begin(), payload.bytes.end());
          if (payload.piped()) {
            bytes.resize(size);
            if (!ReadPipeExactly(payload.pipe, std::span(bytes).subspan(header.size()))) {
              return EIO;
            }
          }
        }
        queued_data_bytes_ += bytes.size();
        data_queue_.push_back(std::move(bytes));
        WakeWriterAndUnlock(lock);
        return 0;
      }
      ++sender_waiters_;
      const std::cv_status status = senders_wakeup_.wait_until(lock, deadline);
      --sender_waiters_;
      if (status == std::cv_status::timeout && Clock::now() >= deadline) {
        return dead_.load() ? ECONNRESET : ETIMEDOUT;
      }
    }
  }

  int SendDataFrame(const Frame& frame, Deadline deadline) {
    std::vector<uint8_t> bytes = EncodeFrame(frame);
    if (bytes.empty()) return EMSGSIZE;
    return SendData(bytes, Payload{}, deadline, &bytes);
  }

  std::shared_ptr<StreamState> NewLocalStream() {
    std::lock_guard lock(streams_mutex_);
    const uint32_t id = next_stream_id_;
    next_stream_id_ += 2;
    auto state = std::make_shared<StreamState>(id, StreamPhase::kOpening);
    if (!dead_.load()) streams_.emplace(id, state);
    return state;
  }

  void Forget(uint32_t id) {
    std::lock_guard lock(streams_mutex_);
    streams_.erase(id);
  }

  size_t StreamCount() const {
    std::lock_guard lock(streams_mutex_);
    return streams_.size();
  }

  // Sends a query and waits for its answer until `deadline`.
  DnsResult QueryDns(std::span<const uint8_t> message, Deadline deadline) {
    std::future<DnsResult> answer;
    uint32_t id = 0;
    {
      std::lock_guard lock(dns_mutex_);
      if (dead_.load()) return {ECONNRESET, {}};
      id = next_query_id_++;
      answer = pending_dns_[id].get_future();
    }
    const int error = SendDataFrame(
        {id, DnsQuery{std::vector<uint8_t>(message.begin(), message.end())}}, deadline);
    if (error == 0 && answer.wait_until(deadline) == std::future_status::ready) return answer.get();
    std::lock_guard lock(dns_mutex_);
    pending_dns_.erase(id);
    return {error != 0 ? error : ETIMEDOUT, {}};
  }

  // Sends a Request and waits for its Reply until `deadline`.
  CallResult Call(std::string body, Deadline deadline) {
    std::future<CallResult> answer;
    uint32_t id = 0;
    {
      std::lock_guard lock(calls_mutex_);
      if (dead_.load()) return {ECONNRESET, {}};
      id = next_request_id_++;
      answer = pending_calls_[id].get_future();
    }
    const int error = SendDataFrame({id, Request{std::move(body)}}, deadline);
    if (error == 0 && answer.wait_until(deadline) == std::future_status::ready) return answer.get();
    std::lock_guard lock(calls_mutex_);
    pending_calls_.erase(id);
    return {error != 0 ? error : ETIMEDOUT, {}};
  }

  // Makes the link dead for good and fails everything waiting on it. Idempotent, any thread.
  void Break(const std::string& reason) {
    {
      std::lock_guard lock(state_mutex_);
      if (dead_.load()) return;
      failure_reason_ = reason;
      dead_.store(true);
    }
    state_changed_.notify_all();
    spdlog::info("{}: connection closed: {}", options_.name, reason);
    ::shutdown(socket_.Get(), SHUT_RDWR);
    { std::lock_guard lock(queue_mutex_); }
    writer_wakeup_.notify_all();
    senders_wakeup_.notify_all();
    FailAllStreams("tunnel lost: " + reason);
    FailAllQueries();
    FailAllCalls();
  }

  bool Dead() const { return dead_.load(); }
  std::string FailureReason() const {
    std::lock_guard lock(state_mutex_);
    return failure_reason_;
  }
  bool WaitUntilDead(Deadline deadline) const {
    std::unique_lock lock(state_mutex_);
    return state_changed_.wait_until(lock, deadline, [&] { return dead_.load(); });
  }

  void ReadLoop();
  void WriteLoop();

 private:
  void FailAllStreams(const std::string& reason) {
    std::map<uint32_t, std::shared_ptr<StreamState>> failed;
    {
      std::lock_guard lock(streams_mutex_);
      failed.swap(streams_);
    }
    for (auto& [id, state] : failed) state->Fail(ECONNRESET, reason);
  }

  void FailAllQueries() {
    std::map<uint32_t, std::promise<DnsResult>> failed;
    {
      std::lock_guard lock(dns_mutex_);
      failed.swap(pending_dns_);
    }
    for (auto& [id, promise] : failed) promise.set_value({ECONNRESET, {}});
  }

  void FailAllCalls() {
    std::map<uint32_t, std::promise<CallResult>> failed;
    {
      std::lock_guard lock(calls_mutex_);
      failed.swap(pending_calls_);
    }
    for (auto& [id, promise] : failed) promise.set_value({ECONNRESET, {}});
  }

  std::shared_ptr<StreamState> Find(uint32_t id) {
    std::lock_guard lock(streams_mutex_);
    const auto found = streams_.find(id);
    return found == streams_.end() ? nullptr : found->second;
  }

  // --- Sending; the *Locked functions and the ones taking `lock` need queue_mutex_. ---

  // Nobody sends, nothing begun waits to be finished, no data is queued: a sender may go
  // straight to the socket (taking the queued control frames along).
  bool FreeForDirectLocked() const {
    return owner_ == SocketOwner::kNone && partial_.empty() && data_queue_.empty();
  }
  bool HasWorkLocked() const {
    return !partial_.empty() || !control_queue_.empty() || !data_queue_.empty();
  }
  // Unlocks, then wakes the writer thread if it waits and could send now.
  void WakeWriterAndUnlock(std::unique_lock<std::mutex>& lock) {
    const bool wake = writer_waiting_ && owner_ == SocketOwner::kNone;
    lock.unlock();
    if (wake) writer_wakeup_.notify_one();
  }
  // The owner is done with the socket: wakes whoever can use it now. Unlocks.
  void ReleaseSocket(std::unique_lock<std::mutex>& lock) {
    owner_ = SocketOwner::kNone;
    const bool wake_writer = writer_waiting_ && HasWorkLocked();
    const bool wake_senders = sender_waiters_ > 0;
    lock.unlock();
    if (wake_writer) writer_wakeup_.notify_one();
    if (wake_senders) senders_wakeup_.notify_all();
  }
  // The owner's send failed: the link is dead. Unlocks; returns ECONNRESET.
  int SendFailed(std::unique_lock<std::mutex>& lock, int error) {
    owner_ = SocketOwner::kNone;
    lock.unlock();
    Break(std::string("send failed: ") + std::strerror(error));
    return ECONNRESET;
  }

  // Sends `pieces` in order, by the socket's owner, without the lock; waits for room in the
  // socket until `deadline` if `may_wait`. Returns the bytes sent; `error` is 0 when all went,
  // EAGAIN when the socket stayed full, else the socket's errno. Modifies `pieces`.
  // With `more`, the kernel holds the bytes back for what follows (MSG_MORE).
  size_t SendPieces(std::span<iovec> pieces, bool may_wait, Deadline deadline, int& error,
                    bool more = false);
  // Waits until the socket has room; false (and `error` EAGAIN or the errno) when `deadline`
  // passed first or poll failed.
  bool WaitWritable(Deadline deadline, int& error);
  // Moves `count` bytes from the pipe to the socket (the socket's owner, without the lock),
  // waiting for room until `deadline`. Returns the bytes moved; `error` as for SendPieces, or
  // EIO when the pipe ran dry.
  size_t SpliceToSocket(int pipe, size_t count, Deadline deadline, int& error);
  // SendData's direct path: this thread takes the socket (and the queued control frames).
  int SendDirect(std::unique_lock<std::mutex>& lock, std::span<const uint8_t> header,
                 Payload payload, Deadline deadline);
  // After a frame was begun on the socket and the deadline passed: keeps its unsent part, from
  // `offset` on, in `partial_` (reading a piped payload out of its pipe). False when the pipe
  // held less than said.
  bool KeepUnsentLocked(std::span<const uint8_t> header, Payload payload, size_t offset);

  // --- Receiving: reader thread only. ---

  // Handles one whole frame from the peer (not Data: its payload is streamed); returns "" or
  // the protocol violation that kills the link.
  std::string Dispatch(Frame& frame);
  // Checks a Data header against the stream's state and credit; sets `incoming`.
  std::string StartData(uint32_t id, size_t size, Incoming& incoming);
  // Hands payload bytes from the reader's buffer to the stream.
  void Deliver(const std::shared_ptr<StreamState>& stream, std::span<const uint8_t> bytes);
  // Claims where the stream's next `limit` bytes go (a lent buffer or the ring's free space),
  // appended as iovecs at pieces[count]; returns their size (0 when the stream failed).
  size_t ClaimTarget(StreamState& state, size_t limit, iovec* pieces, size_t& count);
  // Claims the stream's pipe for its next bytes when they may go there (the ring is empty, no
  // Read lends a buffer); returns the pipe's write end, or -1. End with FinishTarget.
  int ClaimPipe(StreamState& state);
  // Splices up to `incoming.remaining` payload bytes from the socket into the pipe of
  // `incoming.stream`, if it has one that may take them.
  enum class SpliceOutcome {
    kMoved,        // some bytes went to the pipe
    kSocketEmpty,  // nothing to read: wait for the socket
    kUseRing,      // no pipe, or it is full: receive the usual way
    kBroken,       // the link broke
  };
  SpliceOutcome SpliceIncoming(Incoming& incoming);
  // Ends a claim: `got` bytes arrived there.
  void FinishTarget(const std::shared_ptr<StreamState>& stream, size_t got);
  // Waking the users of a stream that got bytes: not at all (nobody waits), now, or soon: a
  // Read whose lent buffer is filling is woken once the reader would block, once bytes for
  // another stream come, or once kEarlyWakeBytes are there, so that one wake-up brings it all.
  enum class WakeUp { kNone, kSoon, kNow };
  static WakeUp WakeUpNeeded(const StreamState& state);  // with state.mutex held
  void WakeReader(const std::shared_ptr<StreamState>& stream, WakeUp wake);
  void FlushWakeUp();
  std::string OnOpenTcp(uint32_t id, const OpenTcp& request);
  void OnClose(uint32_t id, CloseMode mode);
  void OnOpenAnswer(uint32_t id, int error, const std::string& reason);
  void OnWindow(uint32_t id, uint32_t credit);
  void OnDnsAnswer(uint32_t id, DnsAnswer& answer);
  void OnRequest(uint32_t id, Request& request);
  void OnReply(uint32_t id, Reply& reply);
  // Decodes and dispatches every whole frame in buffer[begin, end), streams Data payloads;
  // false when the link broke.
  bool DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end, Incoming& incoming,
                        bool& large_data);

  UniqueFd socket_;
  const Role role_;
  const TunnelHandlers handlers_;
  const ConnectionOptions options_;
  std::atomic<bool> dead_{false};

  mutable std::mutex state_mutex_;
  mutable std::condition_variable state_changed_;
  std::string failure_reason_;  // guarded by state_mutex_

  std::mutex queue_mutex_;
  std::condition_variable writer_wakeup_;   // writer thread: work it may send now, or dead
  std::condition_variable senders_wakeup_;  // SendData: the socket is free or the queue has room
  // All below guarded by queue_mutex_.
  SocketOwner owner_ = SocketOwner::kNone;
  std::vector<uint8_t> partial_;  // the unsent end of a frame begun on the socket: goes first
  std::deque<std::vector<uint8_t>> control_queue_;
  size_t control_queue_bytes_ = 0;  // the bytes of control_queue_
  std::deque<std::vector<uint8_t>> data_queue_;
  size_t queued_data_bytes_ = 0;
  bool writer_waiting_ = false;
  int sender_waiters_ = 0;
  std::vector<iovec> owner_pieces_;  // scratch of the socket's owner (used without the lock)

  mutable std::mutex streams_mutex_;
  std::map<uint32_t, std::shared_ptr<StreamState>> streams_;  // guarded by streams_mutex_
  uint32_t next_stream_id_;                                   // guarded by streams_mutex_

  std::mutex dns_mutex_;
  std::map<uint32_t, std::promise<DnsResult>> pending_dns_;  // guarded by dns_mutex_
  uint32_t next_query_id_ = 1;                               // guarded by dns_mutex_

  std::mutex calls_mutex_;
  std::map<uint32_t, std::promise<CallResult>> pending_calls_;  // guarded by calls_mutex_
  uint32_t next_request_id_ = 1;                                // guarded by calls_mutex_

  std::shared_ptr<StreamState> wake_pending_;  // reader thread only: see WakeReader
  std::atomic<Clock::rep> last_received_;      // steady clock ticks of the last byte from the peer
  uint64_t next_ping_nonce_ = 1;               // writer thread only
};

bool TunnelLink::WaitWritable(Deadline deadline, int& error) {
  pollfd waiter{socket_.Get(), POLLOUT, 0};
  const int timeout = deadline == Deadline::max() ? -1 : MillisecondsUntil(deadline);
  const int ready = ::poll(&waiter, 1, timeout);
  if (ready < 0 && errno != EINTR) {
    error = errno;
    return false;
  }
  if (ready == 0 && Clock::now() >= deadline) {
    error = EAGAIN;
    return false;
  }
  return true;
}

size_t TunnelLink::SpliceToSocket(int pipe, size_t count, Deadline deadline, int& error) {
  error = 0;
  size_t total = 0;
  bool waited = false;  // the last wait said the socket has room
  while (total < count) {
    const ssize_t moved = SpliceSome(pipe, socket_.Get(), count - total);
    if (moved > 0) {
      total += static_cast<size_t>(moved);
      waited = false;
      continue;
    }
    if (moved < 0 && errno == EAGAIN && !waited) {
      if (!WaitWritable(deadline, error)) return total;
      waited = true;
      continue;
    }
    // Room in the socket and still nothing moved: the pipe is empty.
    error = moved == 0 || errno == EAGAIN ? EIO : errno;
    return total;
  }
  return total;
}

size_t TunnelLink::SendPieces(std::span<iovec> pieces, bool may_wait, Deadline deadline, int& error,
                              bool more) {
  error = 0;
  size_t total = 0;
  size_t first = 0;
  while (first < pieces.size() && pieces[first].iov_len == 0) ++first;
  while (first < pieces.size()) {
    msghdr message{};
    message.msg_iov = pieces.data() + first;
    message.msg_iovlen = std::min(pieces.size() - first, kMaxPiecesPerCall);
    const ssize_t sent =
        ::sendmsg(socket_.Get(), &message, MSG_NOSIGNAL | MSG_DONTWAIT | (more ? MSG_MORE : 0));
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && errno == EAGAIN) {
      if (!may_wait) {
        error = EAGAIN;
        return total;
      }
      if (!WaitWritable(deadline, error)) return total;
      continue;
    }
    if (sent <= 0) {
      error = sent < 0 ? errno : EPIPE;
      return total;
    }
    total += static_cast<size_t>(sent);
    // Skip what went out; a partly sent piece continues from where it stopped.
    size_t left = static_cast<size_t>(sent);
    while (first < pieces.size() && left >= pieces[first].iov_len) {
      left -= pieces[first].iov_len;
      ++first;
    }
    if (first < pieces.size()) {
      pieces[first].iov_base = static_cast<uint8_t*>(pieces[first].iov_base) + left;
      pieces[first].iov_len -= left;
    }
  }
  return total;
}

int TunnelLink::SendDirect(std::unique_lock<std::mutex>& lock, std::span<const uint8_t> header,
                           Payload payload, Deadline deadline) {
  owner_ = SocketOwner::kDirectData;
  std::deque<std::vector<uint8_t>> control;
  control.swap(control_queue_);
  control_queue_bytes_ = 0;
  lock.unlock();

  std::vector<iovec>& pieces = owner_pieces_;
  pieces.clear();
  size_t control_bytes = 0;
  for (auto& frame : control) {
    pieces.push_back({frame.data(), frame.size()});
    control_bytes += frame.size();
  }
  pieces.push_back({const_cast<uint8_t*>(header.data()), header.size()});
  pieces.push_back({const_cast<uint8_t*>(payload.bytes.data()), payload.bytes.size()});
  int error = 0;
  size_t sent = SendPieces(pieces, true, deadline, error, payload.piped());
  if (payload.piped() && error == 0) {
    sent += SpliceToSocket(payload.pipe, payload.pipe_bytes, deadline, error);
  }

  lock.lock();
  if (error != 0 && error != EAGAIN) return SendFailed(lock, error);
  int result = 0;
  const size_t frame_bytes = header.size() + payload.size();
  if (sent < control_bytes + frame_bytes) {
    // The socket stayed full until the deadline. What was begun must be finished before
    // anything else; our frame counts as sent if it was begun, else not at all.
    size_t skip = sent;
    for (const auto& frame : control) {
      if (skip >= frame.size()) {
        skip -= frame.size();
        continue;
      }
      partial_.insert(partial_.end(), frame.begin() + static_cast<std::ptrdiff_t>(skip),
                      frame.end());
      skip = 0;
    }
    if (sent <= control_bytes) {
      result = ETIMEDOUT;
    } else if (!KeepUnsentLocked(header, payload, sent - control_bytes)) {
      return SendFailed(lock, EIO);
    }
  }
  ReleaseSocket(lock);
  return result;
}

bool TunnelLink::KeepUnsentLocked(std::span<const uint8_t> header, Payload payload, size_t offset) {
  if (offset < header.size()) {
    partial_.insert(partial_.end(), header.begin() + static_cast<std::ptrdiff_t>(offset),
                    header.end());
    offset = 0;
  } else {
    offset -= header.size();
  }
  if (!payload.piped()) {
    partial_.insert(partial_.end(), payload.bytes.begin() + static_cast<std::ptrdiff_t>(offset),
                    payload.bytes.end());
    return true;
  }
  const size_t kept = partial_.size();
  partial_.resize(kept + payload.pipe_bytes - offset);
  return ReadPipeExactly(payload.pipe, std::span(partial_).subspan(kept));
}

std::string TunnelLink::StartData(uint32_t id, size_t size, Incoming& incoming) {
  incoming.remaining = size;
  incoming.stream = Find(id);
  if (!incoming.stream) return "";  // a stream we already reset; its last bytes are dropped
  StreamState& state = *incoming.stream;
  std::lock_guard lock(state.mutex);
  if (state.phase != StreamPhase::kOpen || state.peer_closed_write) {
    return "data on stream " + std::to_string(id) + " that is not open for it";
  }
  if (size > state.receive_allowance) {
    return "peer overran the credit window of stream " + std::to_string(id);
  }
  state.receive_allowance -= size;
  return "";
}

void TunnelLink::Deliver(const std::shared_ptr<StreamState>& stream,
                         std::span<const uint8_t> bytes) {
  StreamState& state = *stream;
  WakeUp wake = WakeUp::kNone;
  {
    std::lock_guard lock(state.mutex);
    if (state.phase == StreamPhase::kFailed) return;
    if (state.received.empty() && state.pipe.Valid() && state.lent.empty()) {
      // Behind what is in the pipe; what the pipe does not take goes to the ring after it.
      const ssize_t written = ::write(state.pipe.write_end.Get(), bytes.data(), bytes.size());
      if (written > 0) {
        state.piped += static_cast<size_t>(written);
        bytes = bytes.subspan(static_cast<size_t>(written));
      }
    }
    if (state.received.empty() && state.piped == 0 && state.lent_filled < state.lent.size()) {
      const size_t count = std::min(bytes.size(), state.lent.size() - state.lent_filled);
      std::memcpy(state.lent.data() + state.lent_filled, bytes.data(), count);
      state.lent_filled += count;
      bytes = bytes.subspan(count);
    }
    if (!bytes.empty()) state.received.Append(bytes);
    wake = WakeUpNeeded(state);
  }
  WakeReader(stream, wake);
}

size_t TunnelLink::ClaimTarget(StreamState& state, size_t limit, iovec* pieces, size_t& count) {
  std::lock_guard lock(state.mutex);
  if (state.phase == StreamPhase::kFailed) return 0;
  state.filling = true;
  state.filling_pipe = false;
  if (state.received.empty() && state.piped == 0 && state.lent_filled < state.lent.size()) {
    const size_t size = std::min(limit, state.lent.size() - state.lent_filled);
    pieces[count++] = {state.lent.data() + state.lent_filled, size};
    state.filling_lent = true;
    return size;
  }
  state.filling_lent = false;
  state.received.Reserve(limit);
  const size_t added = state.received.FreeSpace(limit, pieces + count);
  size_t size = 0;
  for (size_t index = 0; index < added; ++index) size += pieces[count + index].iov_len;
  count += added;
  return size;
}

int TunnelLink::ClaimPipe(StreamState& state) {
  std::lock_guard lock(state.mutex);
  if (state.phase == StreamPhase::kFailed || !state.pipe.Valid() || !state.received.empty() ||
      !state.lent.empty()) {
    return -1;
  }
  state.filling = true;
  state.filling_lent = false;
  state.filling_pipe = true;
  return state.pipe.write_end.Get();
}

TunnelLink::SpliceOutcome TunnelLink::SpliceIncoming(Incoming& incoming) {
  const std::shared_ptr<StreamState> stream = incoming.stream;
  const int pipe = ClaimPipe(*stream);
  if (pipe < 0) return SpliceOutcome::kUseRing;
  const ssize_t moved = SpliceSome(socket_.Get(), pipe, incoming.remaining);
  const int error = errno;
  FinishTarget(stream, moved > 0 ? static_cast<size_t>(moved) : 0);
  if (moved > 0) {
    last_received_.store(Clock::now().time_since_epoch().count());
    incoming.remaining -= static_cast<size_t>(moved);
    if (incoming.remaining == 0) incoming.stream.reset();
    return SpliceOutcome::kMoved;
  }
  if (moved < 0 && error == EAGAIN) {
    // Nothing to read, or the pipe is full.
    int readable = 0;
    if (::ioctl(socket_.Get(), FIONREAD, &readable) == 0 && readable == 0) {
      return SpliceOutcome::kSocketEmpty;
    }
    return SpliceOutcome::kUseRing;
  }
  if (moved < 0 && (error == EINTR || error == EINVAL)) return SpliceOutcome::kUseRing;
  Break(moved == 0 ? "peer closed the connection" : std::strerror(error));
  return SpliceOutcome::kBroken;
}

void TunnelLink::FinishTarget(const std::shared_ptr<StreamState>& stream, size_t got) {
  StreamState& state = *stream;
  WakeUp wake = WakeUp::kNone;
  {
    std::lock_guard lock(state.mutex);
    if (state.filling_pipe) {
      state.piped += got;
      state.filling_pipe = false;
    } else if (state.filling_lent) {
      state.lent_filled += got;
    } else {
      state.received.Commit(got);
    }
    state.filling = false;
    wake = got == 0 && state.ShouldWake() ? WakeUp::kNow : WakeUpNeeded(state);
  }
  WakeReader(stream, wake);
}

TunnelLink::WakeUp TunnelLink::WakeUpNeeded(const StreamState& state) {
  if (!state.ShouldWake()) return WakeUp::kNone;
  // A Read whose lent buffer is filling may get more at once: one wake-up for all of it.
  const bool lent_filling = !state.lent.empty() && state.received.empty() &&
                            state.lent_filled < std::min(state.lent.size(), kEarlyWakeBytes);
  const bool pipe_filling =
      state.lent.empty() && state.received.empty() && state.piped < kEarlyWakeBytes;
  return lent_filling || (state.pipe.Valid() && pipe_filling) ? WakeUp::kSoon : WakeUp::kNow;
}

void TunnelLink::WakeReader(const std::shared_ptr<StreamState>& stream, WakeUp wake) {
  if (wake == WakeUp::kNone) return;
  if (wake_pending_ != stream) FlushWakeUp();
  if (wake == WakeUp::kSoon) {
    wake_pending_ = stream;
    return;
  }
  wake_pending_.reset();
  stream->changed.notify_all();
}

void TunnelLink::FlushWakeUp() {
  if (!wake_pending_) return;
  const std::shared_ptr<StreamState> stream = std::move(wake_pending_);
  wake_pending_.reset();
  stream->changed.notify_all();
}

std::string TunnelLink::OnOpenTcp(uint32_t id, const OpenTcp& request) {
  const bool id_from_peer = (id % 2 == 1) == (role_ == Role::kServer);
  if (!id_from_peer || id == 0) return "OpenTcp with stream id " + std::to_string(id);
  auto state = std::make_shared<StreamState>(id, StreamPhase::kAccepting);
  {
    std::lock_guard lock(streams_mutex_);
    if (!streams_.emplace(id, state).second)
      return "OpenTcp reuses stream id " + std::to_string(id);
  }
  std::unique_ptr<TunnelStream> stream(new TunnelStream(state, shared_from_this()));
  if (handlers_.on_open_tcp) handlers_.on_open_tcp(std::move(stream), request);
  return "";  // an unhandled stream is refused by its destructor
}

void TunnelLink::OnClose(uint32_t id, CloseMode mode) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  if (mode == CloseMode::kReset) {
    state->Fail(ECONNRESET, "stream reset by peer");
    Forget(id);
    return;
  }
  bool finished = false;
  bool wake = false;
  {
    std::lock_guard lock(state->mutex);
    state->peer_closed_write = true;
    finished = state->Finished();
    wake = state->ShouldWake();
  }
  if (wake) state->changed.notify_all();
  if (finished) Forget(id);
}

void TunnelLink::OnOpenAnswer(uint32_t id, int error, const std::string& reason) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  if (error != 0) {
    state->Fail(error, reason);
    Forget(id);
    return;
  }
  bool wake = false;
  {
    std::lock_guard lock(state->mutex);
    if (state->phase == StreamPhase::kOpening) state->phase = StreamPhase::kOpen;
    wake = state->ShouldWake();
  }
  if (wake) state->changed.notify_all();
}

void TunnelLink::OnWindow(uint32_t id, uint32_t credit) {
  const std::shared_ptr<StreamState> state = Find(id);
  if (!state) return;
  bool wake = false;
  {
    std::lock_guard lock(state->mutex);
    state->send_credit += credit;
    wake = state->ShouldWake();
  }
  if (wake) state->changed.notify_all();
}

void TunnelLink::OnDnsAnswer(uint32_t id, DnsAnswer& answer) {
  std::promise<DnsResult> promise;
  {
    std::lock_guard lock(dns_mutex_);
    const auto found = pending_dns_.find(id);
    if (found == pending_dns_.end()) return;  // timed out already
    promise = std::move(found->second);
    pending_dns_.erase(found);
  }
  promise.set_value({answer.error_code, std::move(answer.message)});
}

void TunnelLink::OnRequest(uint32_t id, Request& request) {
  if (handlers_.on_request) {
    handlers_.on_request(id, std::move(request));
    return;
  }
  // Small and never waiting: the reader thread must not block on a full queue.
  SendControl({id, Reply{ENOSYS, R"({"error":"this side of the tunnel takes no requests"})"}});
}

void TunnelLink::OnReply(uint32_t id, Reply& reply) {
  std::promise<CallResult> promise;
  {
    std::lock_guard lock(calls_mutex_);
    const auto found = pending_calls_.find(id);
    if (found == pending_calls_.end()) return;  // timed out already
    promise = std::move(found->second);
    pending_calls_.erase(found);
  }
  promise.set_value({reply.error_code, std::move(reply.body)});
}

std::string TunnelLink::Dispatch(Frame& frame) {
  const uint32_t id = frame.id;
  switch (frame.type()) {
    case FrameType::kData: {  // not reached: the read loop streams Data payloads
      Incoming incoming;
      const auto& bytes = std::get<Data>(frame.body).bytes;
      std::string violation = StartData(id, bytes.size(), incoming);
      if (violation.empty() && incoming.stream) Deliver(incoming.stream, bytes);
      return violation;
    }
    case FrameType::kWindow:
      OnWindow(id, std::get<Window>(frame.body).credit);
      return "";
    case FrameType::kClose:
      OnClose(id, std::get<Close>(frame.body).mode);
      return "";
    case FrameType::kOpenTcp:
      return OnOpenTcp(id, std::get<OpenTcp>(frame.body));
    case FrameType::kOpened:
      OnOpenAnswer(id, 0, "");
      return "";
    case FrameType::kOpenFailed: {
      const auto& failed = std::get<OpenFailed>(frame.body);
      OnOpenAnswer(id, failed.error_code != 0 ? failed.error_code : ECONNREFUSED, failed.reason);
      return "";
    }
    case FrameType::kUdpDatagram:
      if (handlers_.on_udp_datagram) {
        handlers_.on_udp_datagram(id, std::move(std::get<UdpDatagram>(frame.body)));
      }
      return "";
    case FrameType::kUdpReply:
      if (handlers_.on_udp_reply)
        handlers_.on_udp_reply(id, std::move(std::get<UdpReply>(frame.body)));
      return "";
    case FrameType::kDnsQuery:
      if (handlers_.on_dns_query)
        handlers_.on_dns_query(id, std::move(std::get<DnsQuery>(frame.body)));
      return "";
    case FrameType::kDnsAnswer:
      OnDnsAnswer(id, std::get<DnsAnswer>(frame.body));
      return "";
    case FrameType::kPing:
      SendControl({0, Pong{std::get<Ping>(frame.body).nonce}});
      return "";
    case FrameType::kPong:
      return "";
    case FrameType::kSubnetsChanged:
      if (handlers_.on_subnets_changed) {
        handlers_.on_subnets_changed(std::move(std::get<SubnetsChanged>(frame.body).subnets));
      }
      return "";
    case FrameType::kRequest:
      OnRequest(id, std::get<Request>(frame.body));
      return "";
    case FrameType::kReply:
      OnReply(id, std::get<Reply>(frame.body));
      return "";
    case FrameType::kHello:
    case FrameType::kWelcome:
    case FrameType::kRefused:
      break;
  }
  return std::string(FrameTypeName(frame.type())) + " frame after the handshake";
}

bool TunnelLink::DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end,
                                  Incoming& incoming, bool& large_data) {
  while (begin < end) {
    if (incoming.remaining > 0) {
      const size_t count = std::min(incoming.remaining, end - begin);
      if (incoming.stream) Deliver(incoming.stream, std::span(buffer).subspan(begin, count));
      begin += count;
      incoming.remaining -= count;
      if (incoming.remaining == 0) incoming.stream.reset();
      continue;
    }
    const auto available = std::span<const uint8_t>(buffer).subspan(begin, end - begin);
    const HeaderDecodeResult header = DecodeFrameHeader(available);
    if (header.status == DecodeStatus::kNeedMore) return true;
    if (header.status == DecodeStatus::kMalformed) {
      Break("malformed frame from peer: " + std::string(MalformedReasonName(header.reason)));
      return false;
    }
    if (header.header.type == FrameType::kData) {
      const size_t size = header.header.payload_size;
      if (std::string violation = StartData(header.header.id, size, incoming); !violation.empty()) {
        Break("protocol violation: " + violation);
        return false;
      }
      large_data = size > kSmallReadBytes;
      begin += kFrameHeaderSize;
      if (incoming.remaining == 0) incoming.stream.reset();
      continue;
    }
    DecodeResult decoded = DecodeFrame(available);
    if (decoded.status == DecodeStatus::kNeedMore) return true;
    FlushWakeUp();
    if (decoded.status == DecodeStatus::kMalformed) {
      Break("malformed frame from peer: " + std::string(MalformedReasonName(decoded.reason)));
      return false;
    }
    begin += decoded.consumed;
    if (const std::string violation = Dispatch(decoded.frame); !violation.empty()) {
      Break("protocol violation: " + violation);
      return false;
    }
  }
  return true;
}

void TunnelLink::ReadLoop() {
  std::vector<uint8_t> buffer(kReadBufferBytes);
  size_t begin = 0;
  size_t end = 0;
  Incoming incoming;
  bool large_data = false;  // the last Data frame was large: more are likely to follow
  bool piped_data = false;  // the last payload went to a pipe: read headers alone
  bool drained = false;     // the last read emptied the socket: wait before the next
  while (!dead_.load()) {
    if (!DispatchBuffered(buffer, begin, end, incoming, large_data)) break;
    if (drained) {
      // Wake whoever waits for what came, then wait for more, at most until the peer counts as
      // gone.
      FlushWakeUp();
      const Deadline silent_until =
          Clock::time_point(Clock::duration(last_received_.load())) + options_.dead_after;
      pollfd waiter{socket_.Get(), POLLIN, 0};
      const int ready = ::poll(&waiter, 1, MillisecondsUntil(silent_until));
      if (ready == 0) {
        if (Clock::now() < silent_until) continue;
        Break("no frame from peer for " + std::to_string(options_.dead_after.count()) + " ms");
        break;
      }
      drained = false;
    }
    // What is left is the start of a header or of a frame other than Data: keep it at the
    // front when room runs short; grow only for a frame larger than the buffer.
    if (begin == end) {
      begin = end = 0;
    } else {
      size_t needed = kFrameHeaderSize;
      if (end - begin >= 4) {
        needed = 4 + ((size_t{buffer[begin]} << 24) | (size_t{buffer[begin + 1]} << 16) |
                      (size_t{buffer[begin + 2]} << 8) | buffer[begin + 3]);
      }
      if (begin + needed > buffer.size() || buffer.size() - end < kSmallReadBytes) {
        std::memmove(buffer.data(), buffer.data() + begin, end - begin);
        end -= begin;
        begin = 0;
      }
      if (needed > buffer.size()) buffer.resize(std::min(needed, kMaxFrameSize));
    }

    // A payload for a stream read through a pipe: from the socket to the pipe, no copy.
    if (incoming.remaining > 0 && incoming.stream) {
      const SpliceOutcome outcome = SpliceIncoming(incoming);
      if (outcome == SpliceOutcome::kBroken) break;
      piped_data = outcome != SpliceOutcome::kUseRing;
      drained = outcome == SpliceOutcome::kSocketEmpty;
      if (outcome != SpliceOutcome::kUseRing) continue;
    }

    // One read: the payload under way straight to where it belongs, then the reader's buffer
    // for what follows (a little while large frames come, as much as fits otherwise).
    iovec pieces[3];
    size_t count = 0;
    size_t direct = 0;
    std::shared_ptr<StreamState> target;
    if (incoming.remaining > 0 && incoming.stream) {
      direct = ClaimTarget(*incoming.stream, incoming.remaining, pieces, count);
      if (direct > 0) {
        target = incoming.stream;
      } else {
        incoming.stream.reset();  // failed meanwhile: drop the rest of its payload
      }
    }
    size_t room = buffer.size() - end;
    if (target != nullptr || (incoming.remaining == 0 && large_data)) {
      room = std::min(room, kSmallReadBytes);
    }
    if (target == nullptr && piped_data && end - begin < kFrameHeaderSize) {
      room = std::min(room, kFrameHeaderSize - (end - begin));  // the next header, no more
    }
    if (target != nullptr) piped_data = false;
    pieces[count++] = {buffer.data() + end, room};
    const size_t asked = direct + room;
    msghdr message{};
    message.msg_iov = pieces;
    message.msg_iovlen = count;
    const ssize_t got = ::recvmsg(socket_.Get(), &message, MSG_DONTWAIT);
    const int receive_error = errno;
    const size_t to_target = got > 0 ? std::min(static_cast<size_t>(got), direct) : 0;
    if (target) FinishTarget(target, to_target);
    if (got > 0) {
      last_received_.store(Clock::now().time_since_epoch().count());
      incoming.remaining -= to_target;
      if (incoming.remaining == 0) incoming.stream.reset();
      end += static_cast<size_t>(got) - to_target;
      drained = static_cast<size_t>(got) < asked;
      continue;
    }
    if (got == 0) {
      Break("peer closed the connection");
      break;
    }
    if (receive_error == EINTR) continue;
    if (receive_error != EAGAIN) {
      Break(std::strerror(receive_error));
      break;
    }
    drained = true;
  }
  incoming.stream.reset();
  FlushWakeUp();
  if (handlers_.on_closed) handlers_.on_closed(FailureReason());
}

void TunnelLink::WriteLoop() {
  Deadline next_ping = Clock::now() + options_.keepalive_interval;
  std::vector<std::vector<uint8_t>> batch;
  std::unique_lock lock(queue_mutex_);
  while (true) {
    writer_waiting_ = true;
    writer_wakeup_.wait_until(lock, next_ping, [&] {
      return dead_.load() || (owner_ == SocketOwner::kNone && HasWorkLocked());
    });
    writer_waiting_ = false;
    if (dead_.load()) return;
    if (Clock::now() >= next_ping) {
      control_queue_.push_back(EncodeFrame({0, Ping{next_ping_nonce_++}}));
      control_queue_bytes_ += control_queue_.back().size();
      next_ping = Clock::now() + options_.keepalive_interval;
    }
    // Someone else sends: it takes the Ping along, or wakes us when it is done.
    if (owner_ != SocketOwner::kNone || !HasWorkLocked()) continue;

    owner_ = SocketOwner::kWriterThread;
    batch.clear();
    if (!partial_.empty()) {
      batch.push_back(std::move(partial_));
      partial_.clear();
    }
    for (auto& frame : control_queue_) batch.push_back(std::move(frame));
    control_queue_.clear();
    control_queue_bytes_ = 0;
    size_t data_bytes = 0;
    size_t data_frames = 0;
    while (!data_queue_.empty() && data_bytes < kWriteBatchBytes && data_frames < kMaxBatchFrames) {
      data_bytes += data_queue_.front().size();
      ++data_frames;
      batch.push_back(std::move(data_queue_.front()));
      data_queue_.pop_front();
    }
    queued_data_bytes_ -= data_bytes;
    const bool wake_senders = data_bytes > 0 && sender_waiters_ > 0;
    lock.unlock();
    if (wake_senders) senders_wakeup_.notify_all();

    std::vector<iovec>& pieces = owner_pieces_;
    pieces.clear();
    for (auto& frame : batch) pieces.push_back({frame.data(), frame.size()});
    int error = 0;
    SendPieces(pieces, true, Deadline::max(), error);
    lock.lock();
    if (error != 0) {
      SendFailed(lock, error);
      return;
    }
    ReleaseSocket(lock);
    lock.lock();
  }
}

}  // namespace detail

using detail::StreamPhase;
using detail::StreamState;
using detail::TunnelLink;

TunnelStream::TunnelStream(std::shared_ptr<StreamState> state, std::shared_ptr<TunnelLink> link)
    : state_(std::move(state)), link_(std::move(link)) {}

TunnelStream::~TunnelStream() {
  StreamPhase phase;
  bool finished = false;
  {
    std::lock_guard lock(state_->mutex);
    phase = state_->phase;
    finished = state_->Finished();
  }
  if (phase == StreamPhase::kAccepting) {
    Refuse(ECONNREFUSED, "stream not accepted");
  } else if (!finished) {
    Reset();
  }
  link_->Forget(state_->id);
}

uint32_t TunnelStream::id() const { return state_->id; }

namespace {

// With state.mutex held: moves up to into.size() piped bytes out of the pipe by copy.
size_t TakePiped(StreamState& state, std::span<uint8_t> into) {
  const size_t ask = std::min(into.size(), state.piped);
  const ssize_t got = ::read(state.pipe.read_end.Get(), into.data(), ask);
  if (got <= 0) return 0;
  state.piped -= static_cast<size_t>(got);
  return static_cast<size_t>(got);
}

// With state.mutex held: `count` bytes were read. Returns the credit to grant the peer now (0:
// none yet).
uint32_t ConsumedLocked(StreamState& state, size_t count) {
  if (!state.filling) state.received.ResetIfEmpty(kRingKeepBytes);
  state.consumed_since_grant += count;
  if (state.consumed_since_grant < kWindowGrantStep || state.phase != StreamPhase::kOpen ||
      state.peer_closed_write) {
    return 0;
  }
  const auto grant = static_cast<uint32_t>(state.consumed_since_grant);
  state.receive_allowance += grant;
  state.consumed_since_grant = 0;
  return grant;
}

}  // namespace

IoResult TunnelStream::Read(std::span<uint8_t> into, Deadline deadline) {
  StreamState& state = *state_;
  IoResult result;
  uint32_t grant = 0;
  {
    std::unique_lock lock(state.mutex);
    const auto ended = [&] {
      return state.peer_closed_write || state.phase == StreamPhase::kFailed;
    };
    const auto available = [&] { return state.piped > 0 || !state.received.empty(); };
    if (state.piped > 0) {
      result.bytes = TakePiped(state, into);
    } else if (!state.received.empty()) {
      result.bytes = state.received.Take(into);
    } else if (!ended() && !into.empty()) {
      // Lend `into` to the reader thread: the stream's next bytes arrive there directly. (Bytes
      // it is receiving into the ring or the pipe right now land there instead.)
      state.lent = into;
      state.lent_filled = 0;
      state.WaitUntil(lock, deadline, [&] {
        return (state.lent_filled > 0 || available() || ended()) && !state.filling;
      });
      if (state.filling) state.Wait(lock, [&] { return !state.filling; });
      result.bytes = state.lent_filled;
      state.lent = {};
      state.lent_filled = 0;
    } else if (!ended()) {
      state.WaitUntil(lock, deadline, [&] { return available() || ended(); });
    }
    if (result.bytes == 0) {
      if (state.piped > 0) {
        result.bytes = TakePiped(state, into);
      } else if (!state.received.empty()) {
        result.bytes = state.received.Take(into);
      } else if (state.phase == StreamPhase::kFailed) {
        return {0, state.error};
      } else if (!state.peer_closed_write) {
        return {0, ETIMEDOUT};
      } else {
        return {};  // end of stream
      }
    }
    grant = ConsumedLocked(state, result.bytes);
  }
  if (grant > 0) link_->SendControl({state.id, Window{grant}});
  return result;
}

IoResult TunnelStream::ReadToSocket(int socket, size_t max, Deadline deadline) {
  StreamState& state = *state_;
  IoResult result;
  uint32_t grant = 0;
  {
    std::unique_lock lock(state.mutex);
    if (!state.pipe.Valid() && !state.pipe_refused) {
      // A splice(2) into a blocking socket waits there holding the pipe, and with it the
      // reader thread that splices into the pipe: the whole tunnel would stall.
      ::fcntl(socket, F_SETFL, ::fcntl(socket, F_GETFL) | O_NONBLOCK);
      state.pipe = SplicePipe::Make();
      state.pipe_refused = !state.pipe.Valid();
    }
    const auto ready = [&] {
      return state.piped > 0 || !state.received.empty() || state.peer_closed_write ||
             state.phase == StreamPhase::kFailed;
    };
    if (!ready()) state.WaitUntil(lock, deadline, ready);
    if (state.piped > 0) {
      // Only this thread takes from the pipe, so the bytes stay there without the lock.
      const size_t ask = std::min(max, state.piped);
      const int pipe = state.pipe.read_end.Get();
      lock.unlock();
      const ssize_t moved = SpliceSome(pipe, socket, ask);
      const int error = errno;
      lock.lock();
      if (moved <= 0) return {0, moved < 0 ? error : EPIPE};
      state.piped -= static_cast<size_t>(moved);
      result.bytes = static_cast<size_t>(moved);
    } else if (!state.received.empty()) {
      iovec pieces[2];
      msghdr message{};
      message.msg_iov = pieces;
      message.msg_iovlen = state.received.Content(pieces);
      if (pieces[0].iov_len > max) pieces[0].iov_len = max;
      if (message.msg_iovlen > 1 && pieces[0].iov_len + pieces[1].iov_len > max) {
        pieces[1].iov_len = max - pieces[0].iov_len;
      }
      const ssize_t sent = ::sendmsg(socket, &message, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (sent <= 0) return {0, sent < 0 ? errno : EPIPE};
      state.received.Drop(static_cast<size_t>(sent));
      result.bytes = static_cast<size_t>(sent);
    } else if (state.phase == StreamPhase::kFailed) {
      return {0, state.error};
    } else if (!state.peer_closed_write) {
      return {0, ETIMEDOUT};
    } else {
      return {};  // end of stream
    }
    grant = ConsumedLocked(state, result.bytes);
  }
  if (grant > 0) link_->SendControl({state.id, Window{grant}});
  return result;
}

IoResult TunnelStream::Write(std::span<const uint8_t> bytes, Deadline deadline) {
  return WriteFrom(bytes, -1, bytes.size(), deadline);
}

IoResult TunnelStream::WriteFromPipe(int pipe, size_t count, Deadline deadline) {
  return WriteFrom({}, pipe, count, deadline);
}

IoResult TunnelStream::WriteFrom(std::span<const uint8_t> bytes, int pipe, size_t count,
                                 Deadline deadline) {
  StreamState& state = *state_;
  IoResult result;
  while (result.bytes < count) {
    size_t chunk = 0;
    {
      std::unique_lock lock(state.mutex);
      const bool ready = state.WaitUntil(lock, deadline, [&] {
        return state.send_credit > 0 || state.phase == StreamPhase::kFailed ||
               state.local_closed_write;
      });
      if (state.phase == StreamPhase::kFailed) {
        result.error = state.error;
        return result;
      }
      if (state.local_closed_write) {
        result.error = EPIPE;
        return result;
      }
      if (!ready) {
        result.error = ETIMEDOUT;
        return result;
      }
      chunk = std::min({count - result.bytes, state.send_credit, kMaxDataChunk});
      state.send_credit -= chunk;
    }
    const auto header = DataFrameHeader(state.id, chunk);
    detail::Payload payload;
    if (pipe >= 0) {
      payload.pipe = pipe;
      payload.pipe_bytes = chunk;
    } else {
      payload.bytes = bytes.subspan(result.bytes, chunk);
    }
    if (const int error = link_->SendData(header, payload, deadline); error != 0) {
      std::lock_guard lock(state.mutex);
      state.send_credit += chunk;  // not sent, so not spent
      result.error = error == EIO ? ECONNRESET : error;
      return result;
    }
    result.bytes += chunk;
  }
  return result;
}

void TunnelStream::CloseWrite() {
  bool finished = false;
  bool wake = false;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kOpen || state_->local_closed_write) return;
    state_->local_closed_write = true;
    finished = state_->Finished();
    wake = state_->ShouldWake();
  }
  if (wake) state_->changed.notify_all();
  // Behind this stream's data (sent or queued), so the peer reads everything first.
  std::vector<uint8_t> frame = EncodeFrame({state_->id, Close{CloseMode::kHalfClose}});
  if (link_->SendData(frame, detail::Payload{}, Clock::now() + kCloseQueueTimeout, &frame) != 0) {
    Reset();
  }
  if (finished) link_->Forget(state_->id);
}

void TunnelStream::Reset() {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->Finished()) return;
  }
  state_->Fail(ECONNRESET, "stream reset locally");
  link_->SendControl({state_->id, Close{CloseMode::kReset}});
  link_->Forget(state_->id);
}

void TunnelStream::Accept() {
  bool wake = false;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
    state_->phase = StreamPhase::kOpen;
    wake = state_->ShouldWake();
  }
  if (wake) state_->changed.notify_all();
  link_->SendControl({state_->id, Opened{}});
}

void TunnelStream::Refuse(int error_code, const std::string& reason) {
  {
    std::lock_guard lock(state_->mutex);
    if (state_->phase != StreamPhase::kAccepting) return;
  }
  state_->Fail(error_code, reason);
  link_->SendControl({state_->id, OpenFailed{error_code, reason}});
  link_->Forget(state_->id);
}

bool TunnelStream::Failed() const {
  std::lock_guard lock(state_->mutex);
  return state_->phase == StreamPhase::kFailed;
}

std::string TunnelStream::FailureReason() const {
  std::lock_guard lock(state_->mutex);
  return state_->failure_reason;
}

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

OpenResult TunnelConnection::OpenTcp(const std::string& host, uint16_t port, Deadline deadline) {
  std::shared_ptr<StreamState> state = link_->NewLocalStream();
  std::unique_ptr<TunnelStream> stream(new TunnelStream(state, link_));
  if (!link_->SendControl({state->id, tunnel::OpenTcp{host, port}})) {
    return {nullptr, ECONNRESET, "tunnel lost: " + link_->FailureReason()};
  }
  std::unique_lock lock(state->mutex);
  const bool answered =
      state->WaitUntil(lock, deadline, [&] { return state->phase != StreamPhase::kOpening; });
  if (!answered) {
    lock.unlock();
    return {nullptr, ETIMEDOUT, "no answer from the traffic-manager in time"};  // resets it
  }
  if (state->phase == StreamPhase::kFailed) {
    OpenResult failed{nullptr, state->error, state->failure_reason};
    lock.unlock();
    return failed;
  }
  lock.unlock();
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
