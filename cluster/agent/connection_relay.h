// The byte relays of the traffic-agent, on the kernel's TCP sockets:
//  * RelaySockets: a client connection and the app's, both ways, on the calling thread (poll);
//    a half-close (FIN) on one side is passed on as a half-close, a reset or an error on one
//    side resets the other; an optional tap sees every byte the client sends.
//  * RelaySocketAndStream: a client connection and a tunnel stream, both ways, on the calling
//    thread and one more, with the same half-close and reset rules.
//  * WiretapCopy: the client's bytes copied to a tunnel stream on its own thread, whose answers
//    are read and dropped. It never slows the real connection: past `max_queued` bytes waiting,
//    the copy is dropped (the stream reset) and later bytes are ignored.
// Every wait is sliced (kPollSlice) so that `stopping` ends a relay within a slice.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/task_group.h"
#include "net/unique_fd.h"
#include "sync/mutex.h"
#include "tunnel/tunnel_connection.h"

namespace tp::agent {

inline constexpr std::chrono::milliseconds kPollSlice{250};

enum class RelayEnd {
  kClosed,  // both directions ended with a half-close
  kReset,   // one side failed or was reset; the other side was reset too (or should be)
  kStopped  // `stopping` turned true
};

// Called with each chunk the client sends (empty span: the client half-closed). Must not block.
using ClientTap = std::function<void(std::span<const uint8_t> bytes)>;

// Relays until both directions have ended. Both sockets stay open; on kReset and kStopped the
// caller should close them with ResetAndClose.
RelayEnd RelaySockets(int client, int app, const std::atomic<bool>& stopping,
                      const ClientTap& tap = nullptr);

// Relays until both directions have ended (the stream is reset on failure: the caller resets
// the client with ResetAndClose on kReset; the relay itself sends the client no FIN then). The
// stream may still be opening (OpenTcpEarly): the client's bytes go at once, and a refusal
// ends the relay with kReset. Stream -> client moves bytes with splice(2) and makes `client`
// non-blocking.
// The way back runs on a waiting thread of `helpers` when it has one (see CompanionTask).
RelayEnd RelaySocketAndStream(int client, tunnel::TunnelStream& stream,
                              const std::atomic<bool>& stopping, TaskGroup* helpers = nullptr);

// Closes `socket` with an RST (SO_LINGER 0): the peer sees ECONNRESET.
void ResetAndClose(UniqueFd socket);

class WiretapCopy {
 public:
  // Opens the stream with `open` on its own thread (so a slow open never delays the client).
  // `open` returns the stream, or nullptr when refused: the copy is then dropped.
  using Opener = std::function<std::unique_ptr<tunnel::TunnelStream>()>;
  WiretapCopy(Opener open, size_t max_queued = 4 * 1024 * 1024);
  // Finishes: closes the stream's write side after what is queued, waits up to a second for
  // it to drain, then resets it.
  ~WiretapCopy();
  WiretapCopy(const WiretapCopy&) = delete;
  WiretapCopy& operator=(const WiretapCopy&) = delete;

  // Queues a copy of `bytes` (empty: the client half-closed); never blocks on the stream.
  void Push(std::span<const uint8_t> bytes);
  // True once the copy was given up (refused, fell behind, stream failed).
  bool Dropped() const { return dropped_.load(); }
  // Bytes the stream took so far.
  uint64_t BytesCopied() const { return copied_.load(); }

 private:
  void Run(Opener open);
  // Sends what is queued; false when the copy must be dropped.
  bool SendQueued(tunnel::TunnelStream& stream);
  // True once the destructor's grace for draining has passed.
  bool PastGiveUp() const;

  const size_t max_queued_;
  Mutex mutex_;
  CondVar changed_;
  std::deque<std::vector<uint8_t>> queue_ GUARDED_BY(mutex_);
  size_t queued_bytes_ GUARDED_BY(mutex_) = 0;
  bool client_done_ GUARDED_BY(mutex_) = false;
  std::atomic<bool> dropped_{false};
  std::atomic<uint64_t> copied_{0};
  std::atomic<int64_t> give_up_at_{0};  // steady_clock ticks; 0 until the destructor runs
  std::thread thread_;                  // last: starts after the members it uses
};

}  // namespace tp::agent
