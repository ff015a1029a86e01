// TunnelLink: the shared core of one tunnel connection, internal to tptunnel (the public face is
// tunnel_connection.h). It owns the socket, the outgoing queues, the stream table and the
// pending DNS queries and calls, and runs the reader and writer threads' loops. Its definitions
// are split by responsibility: tunnel_link.cc (life, streams, queries, calls),
// tunnel_link_send.cc (the socket's owner, the queues, the writer thread) and
// tunnel_link_receive.cc (the reader thread: frames, payloads into rings, buffers and pipes).
//
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
#pragma once

#include <sys/uio.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "net/unique_fd.h"
#include "sync/mutex.h"
#include "tunnel/byte_ring.h"
#include "tunnel/splice_pipe.h"
#include "tunnel/tunnel_connection.h"
#include "tunnel/tunnel_frame.h"

namespace tp::tunnel::detail {

using Clock = std::chrono::steady_clock;

// Credit goes back to the peer in grants of at least this part of the stream's receive window
// (a quarter), to keep Window frames few.
inline constexpr size_t kWindowGrantDivisor = 4;
// A round trip measured by a Ping longer than this is not taken as the link's.
inline constexpr std::chrono::seconds kMaxRoundTrip{30};
// Windows grow only on a link whose round trip is at least this: below, kInitialWindow already
// allows 500 MB/s and more, and a larger window costs copies (payloads that overflow a relay's
// splice pipe land in the ring) and memory, while round trips measured on a busy machine are
// mostly scheduling delay.
inline constexpr std::chrono::milliseconds kMinGrowthRoundTrip{2};
// After the first Ping (sent at once), this many more follow at this interval before the
// keepalive interval takes over, so that the shortest round trip is known early.
inline constexpr int kEarlyPings = 4;
inline constexpr std::chrono::milliseconds kEarlyPingInterval{25};
// The writer thread sends at most this much data per batch (control frames come on top).
inline constexpr size_t kWriteBatchBytes = 512 * 1024;
// Control frames waiting for a peer that does not read: past this, the link is closed.
inline constexpr size_t kMaxQueuedControlBytes = 8 << 20;
// At most this many data frames per batch, and iovecs per sendmsg (under IOV_MAX).
inline constexpr size_t kMaxBatchFrames = 256;
inline constexpr size_t kMaxPiecesPerCall = 1024;
// The reader's own buffer: frame headers, small frames, the odd piece of a payload.
inline constexpr size_t kReadBufferBytes = 256 * 1024;
// While large Data frames come, a read takes at most this much into the reader's own buffer
// (whence it is copied): the payload after a header is received where it belongs by the next.
inline constexpr size_t kSmallReadBytes = 16 * 1024;
// A Read that waits is woken at once when this much arrived in its buffer (see WakeReader).
inline constexpr size_t kEarlyWakeBytes = 64 * 1024;
// A stream's ring buffer is given back when emptied above this size.
inline constexpr size_t kRingKeepBytes = 256 * 1024;
// How long CloseWrite waits for room in a full queue before resetting the stream instead.
inline constexpr std::chrono::seconds kCloseQueueTimeout{10};

enum class StreamPhase {
  kOpening,    // client: OpenTcp sent, waiting for Opened / OpenFailed (may send meanwhile)
  kAccepting,  // server: OpenTcp received, waiting for the handler's Accept / Refuse (may
               // receive meanwhile, within kInitialWindow)
  kOpen,
  kFailed,  // reset, refused, or the tunnel died
};

// Everything about one stream that the reader thread and the stream's users share.
struct StreamState {
  explicit StreamState(uint32_t stream_id, StreamPhase initial) : id(stream_id), phase(initial) {}

  const uint32_t id;
  Mutex mutex;
  CondVar changed;
  StreamPhase phase GUARDED_BY(mutex);
  int error GUARDED_BY(mutex) = 0;
  std::string failure_reason GUARDED_BY(mutex);
  ByteRing received GUARDED_BY(mutex);
  // The buffer of a Read waiting while `received` is empty: the reader thread puts the stream's
  // next bytes there. `filling`: the reader thread is receiving into `lent` or into the ring's
  // free space right now (without the lock, through the iovecs it claimed under it), so neither
  // may go away.
  std::span<uint8_t> lent GUARDED_BY(mutex);
  size_t lent_filled GUARDED_BY(mutex) = 0;
  bool filling GUARDED_BY(mutex) = false;
  bool filling_lent GUARDED_BY(mutex) = false;
  bool filling_pipe GUARDED_BY(mutex) = false;
  // Made by the first ReadToSocket: the reader thread splices payloads into it while `received`
  // is empty and no Read lends a buffer; `piped` bytes in it are the stream's next, before any
  // in `received`. The reader may be splicing more in (`filling_pipe`) while a ReadToSocket
  // splices up to `piped` out, both without the lock (through the descriptors, which stay open
  // while the stream lives).
  SplicePipe pipe GUARDED_BY(mutex);
  bool pipe_refused GUARDED_BY(mutex) = false;  // no pipe could be made: ReadToSocket copies
  size_t piped GUARDED_BY(mutex) = 0;
  size_t receive_allowance GUARDED_BY(mutex) = kInitialWindow;  // bytes the peer may still send
  size_t consumed_since_grant GUARDED_BY(mutex) = 0;
  // The receive window (allowance + bytes received and not yet granted back) and the part of it
  // above kInitialWindow, drawn from the link's budget (TunnelLink::ReserveWindowGrowth).
  size_t receive_window GUARDED_BY(mutex) = kInitialWindow;
  size_t window_growth GUARDED_BY(mutex) = 0;
  size_t shrink_pending GUARDED_BY(mutex) = 0;    // growth to give up from the next grants
  bool reader_starved GUARDED_BY(mutex) = false;  // a read found nothing in this window's worth
  // Since when, and how much of, the current window's worth has been read (for its growth).
  Clock::time_point epoch_start GUARDED_BY(mutex);
  size_t consumed_in_epoch GUARDED_BY(mutex) = 0;
  // Client: when OpenTcp went (its answer measures a round trip), and until when its answer may
  // take (see TunnelConnection::OpenTcpEarly).
  Clock::time_point open_sent GUARDED_BY(mutex);
  Clock::time_point answer_deadline GUARDED_BY(mutex) = Clock::time_point::max();
  bool opened GUARDED_BY(mutex) = false;  // Opened came, or the handler accepted
  size_t send_credit GUARDED_BY(mutex) = kInitialWindow;
  bool peer_closed_write GUARDED_BY(mutex) = false;
  bool local_closed_write GUARDED_BY(mutex) = false;
  int waiters GUARDED_BY(mutex) = 0;  // threads waiting on `changed`

  bool Finished() const REQUIRES(mutex) {
    return phase == StreamPhase::kFailed || (peer_closed_write && local_closed_write);
  }

  // Waits on `changed`, counted in `waiters` so that wakers can skip the signal when nobody
  // waits. Every wait on `changed` goes through these.
  // The predicate runs with `mutex` held: annotate it REQUIRES(mutex) (see sync/mutex.h).
  template <typename Predicate>
  bool WaitUntil(Deadline deadline, Predicate ready) REQUIRES(mutex) {
    ++waiters;
    const bool result = changed.WaitUntil(mutex, deadline, ready);
    --waiters;
    return result;
  }
  template <typename Predicate>
  void Wait(Predicate ready) REQUIRES(mutex) {
    ++waiters;
    changed.Wait(mutex, ready);
    --waiters;
  }
  // Whether a change must be signalled (after unlocking).
  bool ShouldWake() const REQUIRES(mutex) { return waiters > 0; }

  // Marks the stream failed (first failure wins) and wakes its waiters. Locks `mutex`.
  void Fail(int error_code, const std::string& reason) EXCLUDES(mutex) {
    {
      MutexLock lock(mutex);
      if (phase == StreamPhase::kFailed) return;
      phase = StreamPhase::kFailed;
      error = error_code;
      failure_reason = reason;
    }
    changed.NotifyAll();
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
  TunnelLink(UniqueFd socket, Role role, TunnelHandlers handlers, ConnectionOptions options);

  const ConnectionOptions& options() const { return options_; }

  // Sends a control frame now when the socket is free, else queues it ahead of all data: never
  // waits. False when the link is dead.
  bool SendControl(const Frame& frame);

  // Sends one data-class frame, `header` then `payload` (either may be empty): straight from
  // the caller's memory (or pipe) when the socket is free and no data waits, else copied (or
  // moved from `owned`, which then holds header + payload) into the data queue. Waits for the
  // socket or for room in the queue until `deadline`. Returns 0 (the frame will go out whole;
  // a piped payload has left its pipe), ETIMEDOUT (none of it will; a piped payload is still
  // in its pipe), EIO (the pipe held less than said) or ECONNRESET.
  int SendData(std::span<const uint8_t> header, Payload payload, Deadline deadline,
               std::vector<uint8_t>* owned = nullptr);

  // SendData of a whole encoded frame (a DNS query, a Request, ...). EMSGSIZE when it is too big.
  int SendDataFrame(const Frame& frame, Deadline deadline);

  // A stream opened from this side, with the next id of this side's parity, in the table
  // unless the link is dead (then it will fail at once).
  std::shared_ptr<StreamState> NewLocalStream();
  // Takes a finished stream out of the table.
  void Forget(uint32_t id);
  size_t StreamCount() const;

  // Sends a query and waits for its answer until `deadline`.
  DnsResult QueryDns(std::span<const uint8_t> message, Deadline deadline);

  // Sends a Request and waits for its Reply until `deadline`.
  CallResult Call(std::string body, Deadline deadline);

  // Receive windows. `consumed` bytes were read from the stream since the last grant; returns
  // the credit to grant back now. At the end of each window's worth read: when it took less
  // than two round trips and a read found the stream empty meanwhile (the window, not the
  // reader, limits the stream), the window doubles, as far as max_stream_window and the link's
  // budget allow; when no read found it empty (the reader is the limit; round trips measured
  // behind the bytes it leaves queued look long too), half its growth is given up from the
  // next grants.
  size_t AdjustWindowLocked(StreamState& state, size_t consumed, Clock::time_point now)
      REQUIRES(state.mutex);
  // Takes up to `wanted` bytes of window growth from the link's budget; returns how many.
  size_t ReserveWindowGrowth(size_t wanted);
  // Gives back growth taken by a stream that is gone.
  void ReleaseWindowGrowth(size_t bytes);
  size_t WindowGrowthInUse() const { return window_growth_in_use_.load(); }
  // A round trip measured (a Ping's, or an OpenTcp's answer: at least one round trip).
  void NoteRoundTrip(Clock::duration round_trip);
  // The shortest round trip measured so far; zero before the first.
  Clock::duration MinRoundTrip() const { return Clock::duration(min_round_trip_.load()); }

  // Makes the link dead for good and fails everything waiting on it. Idempotent, any thread.
  void Break(const std::string& reason);

  bool Dead() const { return dead_.load(); }
  std::string FailureReason() const;
  bool WaitUntilDead(Deadline deadline) const;

  // The reader thread's and the writer thread's bodies; each returns once the link is dead.
  void ReadLoop();
  void WriteLoop();

 private:
  // After Break: fail every stream, query and call that waits, outside the locks.
  void FailAllStreams(const std::string& reason);
  void FailAllQueries();
  void FailAllCalls();
  // The stream with this id, or null.
  std::shared_ptr<StreamState> Find(uint32_t id);

  // --- Sending; the *Locked functions and the ones taking `lock` need queue_mutex_. ---

  // Nobody sends, nothing begun waits to be finished, no data is queued: a sender may go
  // straight to the socket (taking the queued control frames along).
  bool FreeForDirectLocked() const REQUIRES(queue_mutex_) {
    return owner_ == SocketOwner::kNone && partial_.empty() && data_queue_.empty();
  }
  bool HasWorkLocked() const REQUIRES(queue_mutex_) {
    return !partial_.empty() || !control_queue_.empty() || !data_queue_.empty();
  }
  // Unlocks, then wakes the writer thread if it waits and could send now.
  void WakeWriterAndUnlock(MutexLock& lock) RELEASE(queue_mutex_);
  // The owner is done with the socket: wakes whoever can use it now. Unlocks.
  void ReleaseSocket(MutexLock& lock) RELEASE(queue_mutex_);
  // The owner's send failed: the link is dead. Unlocks; returns ECONNRESET.
  int SendFailed(MutexLock& lock, int error) RELEASE(queue_mutex_);

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
  // Returns with the lock released.
  int SendDirect(MutexLock& lock, std::span<const uint8_t> header, Payload payload,
                 Deadline deadline) RELEASE(queue_mutex_);
  // After a frame was begun on the socket and the deadline passed: keeps its unsent part, from
  // `offset` on, in `partial_` (reading a piped payload out of its pipe). False when the pipe
  // held less than said.
  bool KeepUnsentLocked(std::span<const uint8_t> header, Payload payload, size_t offset)
      REQUIRES(queue_mutex_);

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
  static WakeUp WakeUpNeeded(const StreamState& state) REQUIRES(state.mutex);
  void WakeReader(const std::shared_ptr<StreamState>& stream, WakeUp wake);
  void FlushWakeUp();
  std::string OnOpenTcp(uint32_t id, const OpenTcp& request);
  void OnClose(uint32_t id, CloseMode mode);
  void OnOpenAnswer(uint32_t id, int error, const std::string& reason);
  void OnWindow(uint32_t id, uint32_t credit);
  void OnDnsAnswer(uint32_t id, DnsAnswer& answer);
  void OnRequest(uint32_t id, Request& request);
  void OnReply(uint32_t id, Reply& reply);
  // A Pong carries back the steady clock ticks at which we sent its Ping: a round trip.
  void OnPong(uint64_t nonce);
  // Decodes and dispatches every whole frame in buffer[begin, end), streams Data payloads;
  // false when the link broke.
  bool DispatchBuffered(std::vector<uint8_t>& buffer, size_t& begin, size_t end, Incoming& incoming,
                        bool& large_data);

  UniqueFd socket_;
  const Role role_;
  const TunnelHandlers handlers_;
  const ConnectionOptions options_;
  std::atomic<bool> dead_{false};

  mutable Mutex state_mutex_;
  mutable CondVar state_changed_;
  std::string failure_reason_ GUARDED_BY(state_mutex_);

  Mutex queue_mutex_;
  CondVar writer_wakeup_;   // writer thread: work it may send now, or dead
  CondVar senders_wakeup_;  // SendData: the socket is free or the queue has room
  SocketOwner owner_ GUARDED_BY(queue_mutex_) = SocketOwner::kNone;
  // The unsent end of a frame begun on the socket: goes first.
  std::vector<uint8_t> partial_ GUARDED_BY(queue_mutex_);
  std::deque<std::vector<uint8_t>> control_queue_ GUARDED_BY(queue_mutex_);
  size_t control_queue_bytes_ GUARDED_BY(queue_mutex_) = 0;  // the bytes of control_queue_
  std::deque<std::vector<uint8_t>> data_queue_ GUARDED_BY(queue_mutex_);
  size_t queued_data_bytes_ GUARDED_BY(queue_mutex_) = 0;
  bool writer_waiting_ GUARDED_BY(queue_mutex_) = false;
  int sender_waiters_ GUARDED_BY(queue_mutex_) = 0;
  std::vector<iovec> owner_pieces_;  // scratch of the socket's owner (used without the lock)

  mutable Mutex streams_mutex_;
  std::map<uint32_t, std::shared_ptr<StreamState>> streams_ GUARDED_BY(streams_mutex_);
  uint32_t next_stream_id_ GUARDED_BY(streams_mutex_);

  Mutex dns_mutex_;
  std::map<uint32_t, std::promise<DnsResult>> pending_dns_ GUARDED_BY(dns_mutex_);
  uint32_t next_query_id_ GUARDED_BY(dns_mutex_) = 1;

  Mutex calls_mutex_;
  std::map<uint32_t, std::promise<CallResult>> pending_calls_ GUARDED_BY(calls_mutex_);
  uint32_t next_request_id_ GUARDED_BY(calls_mutex_) = 1;

  std::shared_ptr<StreamState> wake_pending_;  // reader thread only: see WakeReader
  std::atomic<Clock::rep> last_received_;      // steady clock ticks of the last byte from the peer
  std::atomic<Clock::rep> min_round_trip_{0};  // see MinRoundTrip
  std::atomic<size_t> window_growth_in_use_{0};  // the streams' window_growth, together
};

}  // namespace tp::tunnel::detail
