// TunnelConnection runs one tunnel over a connected socket after the handshake
// (tunnel_handshake.h): a reader thread decodes frames and dispatches them, a writer thread sends
// queued frames and a Ping every keepalive interval. It multiplexes TCP streams with per-stream
// credit windows (a stream whose reader is slow stops its writer, never the others, and never
// buffers more than its window), UDP datagrams and DNS queries. A peer that sends nothing for
// `dead_after` (it answers every Ping, so this means it is gone), a malformed frame or a broken
// socket makes the connection dead for good: every stream and pending query fails at once with
// ECONNRESET. Every blocking call takes a deadline. Thread-safe.
//
// The client (daemon) opens streams and sends datagrams and queries; the server (manager)
// registers handlers for them. Either role may open streams (client ids odd, server ids even)
// and either may Call the other with a JSON request (own request ids; the Reply carries the id).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "net/unique_fd.h"
#include "tunnel/tunnel_frame.h"

namespace tp::tunnel {

using Deadline = std::chrono::steady_clock::time_point;

enum class Role { kClient, kServer };

struct ConnectionOptions {
  std::string name = "tunnel";  // for logs
  std::chrono::milliseconds keepalive_interval{1000};
  std::chrono::milliseconds dead_after{3000};
  // Frames waiting for the socket that carry data (Data, Close, datagrams, queries), all streams
  // together. Control frames (Window, Ping, Pong, Open*) jump this queue.
  size_t max_queued_bytes = 4 * 1024 * 1024;
  // Receive windows: each stream's grows from kInitialWindow up to this (doubling while the
  // window, not the reader, limits the stream: a window read in under two round trips), and
  // the growth of all streams together stays within max_window_growth, so what a peer may make
  // us buffer is at most streams x kInitialWindow + max_window_growth.
  size_t max_stream_window = 32 * 1024 * 1024;
  size_t max_window_growth = 64 * 1024 * 1024;
};

struct IoResult {
  size_t bytes = 0;
  // 0, or ETIMEDOUT (deadline passed; the stream stays usable), ECONNRESET (the peer reset the
  // stream, the tunnel died, or an open was not answered in time), EPIPE (write after
  // CloseWrite), or for a stream of OpenTcpEarly the peer's refusal (ECONNREFUSED,
  // EHOSTUNREACH...; ECONNRESET for a refusal that would read as "try again": ETIMEDOUT, EAGAIN).
  int error = 0;
  bool ok() const { return error == 0; }
};

namespace detail {
struct StreamState;
class TunnelLink;
}  // namespace detail

// One TCP stream through the tunnel. At most one thread reads and one thread writes at a time.
// Destroying the handle resets the stream unless both directions were closed cleanly.
class TunnelStream {
 public:
  ~TunnelStream();
  TunnelStream(const TunnelStream&) = delete;
  TunnelStream& operator=(const TunnelStream&) = delete;

  uint32_t id() const;
  // Waits until bytes arrive (returns up to into.size() of them), the peer half-closes (returns
  // 0 bytes, ok), the stream fails, or the deadline passes. Reading grants the peer new credit.
  IoResult Read(std::span<uint8_t> into, Deadline deadline);
  // Like Read, but moves up to `max` of the stream's next bytes to `socket` (a connected
  // socket, written without blocking) and returns how many went. From the first call on, the
  // stream's payloads go from the tunnel's socket through a pipe to `socket` with splice(2),
  // with no copy through user space (bytes that arrive while the pipe is full are copied).
  // EAGAIN: `socket` is full and nothing moved (wait until it is writable, call again); another
  // errno of `socket` (EPIPE, ECONNRESET...): nothing moved, the socket failed. Do not mix with
  // Read on one stream except to finish it. The first call makes `socket` non-blocking
  // (O_NONBLOCK): splice(2) would otherwise wait in it and stall the tunnel; use the same
  // socket for every call.
  IoResult ReadToSocket(int socket, size_t max, Deadline deadline);
  // Like Read, but moves the stream's next bytes on to the stream `to` (Write's rules) and
  // returns how many went: from the first call on, payloads go from this tunnel's socket through
  // a pipe to `to`'s tunnel socket with splice(2), with no copy through user space (bytes that
  // arrived while the pipe was full go through `scratch`, and are written to `to` in full,
  // waiting for credit until `to` fails). ETIMEDOUT: nothing arrived, or `to` had no credit in
  // time (what did not go stays for the next call); another error: this stream's failure, or
  // `to`'s write error. Do not mix with Read or ReadToSocket on one stream.
  IoResult ForwardTo(TunnelStream& to, std::span<uint8_t> scratch, Deadline deadline);
  // Sends all of `bytes`, waiting for credit as needed. On error `bytes` says how much went.
  IoResult Write(std::span<const uint8_t> bytes, Deadline deadline);
  // Sends `count` bytes that wait in the pipe `pipe` (its read end, non-blocking; the caller
  // put them there, e.g. with splice(2) from a socket), waiting for credit as needed. When the
  // tunnel's socket is free they go to it with splice(2), without a copy through user space.
  // On error `bytes` says how many left the pipe as stream data; the rest are still in it
  // (ECONNRESET also when the pipe held fewer than `count`).
  IoResult WriteFromPipe(int pipe, size_t count, Deadline deadline);
  // The peer reads end-of-stream after everything written so far. Idempotent.
  void CloseWrite();
  // Drops the stream both ways at once; the peer sees ECONNRESET. Idempotent.
  void Reset();
  // For a stream of OpenTcpEarly: waits until the peer answered the open (ok: accepted; else
  // the refusal's error as Read reports it, or ECONNRESET when reset, or ETIMEDOUT when
  // `deadline` passed first: the stream stays usable). For any other stream, at once: ok, or its
  // failure's error. Never consumes bytes.
  IoResult AwaitOpen(Deadline deadline);
  // For a stream received through on_open_tcp: the dial succeeded / failed. Bytes read before
  // Accept (the opener's early data) are credited back with it, so the opener's writes go on.
  void Accept();
  void Refuse(int error_code, const std::string& reason);
  // True once the stream was reset, refused, or its tunnel died.
  bool Failed() const;
  // True once the peer accepted the stream (Opened), or for a received stream once accepted.
  bool WasOpened() const;
  // Why the stream failed ("" while it has not).
  std::string FailureReason() const;

 private:
  friend class detail::TunnelLink;
  friend class TunnelConnection;
  TunnelStream(std::shared_ptr<detail::StreamState> state,
               std::shared_ptr<detail::TunnelLink> link);
  // Write and WriteFromPipe: from `bytes`, or `count` bytes from `pipe` when it is >= 0.
  IoResult WriteFrom(std::span<const uint8_t> bytes, int pipe, size_t count, Deadline deadline);
  // An open of OpenTcpEarly still unanswered past its deadline: resets the stream.
  void ExpireUnansweredOpen();

  std::shared_ptr<detail::StreamState> state_;
  std::shared_ptr<detail::TunnelLink> link_;
};

struct OpenResult {
  std::unique_ptr<TunnelStream> stream;  // set on success
  int error = 0;                         // the peer's errno (ECONNREFUSED...), or ETIMEDOUT,
                                         // ECONNRESET when the tunnel is dead
  std::string reason;
};

struct DnsResult {
  int error = 0;  // 0, the manager's error, ETIMEDOUT, or ECONNRESET
  std::vector<uint8_t> message;
};

struct CallResult {
  int error = 0;     // 0, the peer's error code, ETIMEDOUT, ECONNRESET (tunnel dead), EMSGSIZE
  std::string body;  // the peer's JSON answer (with an error: {"error": "..."}), or ""
};

// What one side does with the other side's requests. All optional; all run on the reader
// thread and must return quickly (hand slow work to another thread).
struct TunnelHandlers {
  // Server: the peer opens a stream. Call Accept() or Refuse() on it, now or later from any
  // thread; dropping it unanswered refuses it with ECONNREFUSED.
  std::function<void(std::unique_ptr<TunnelStream> stream, const OpenTcp& request)> on_open_tcp;
  std::function<void(uint32_t flow_id, UdpDatagram datagram)> on_udp_datagram;
  std::function<void(uint32_t flow_id, UdpReply reply)> on_udp_reply;
  std::function<void(uint32_t query_id, DnsQuery query)> on_dns_query;
  std::function<void(std::vector<std::string> subnets)> on_subnets_changed;
  // The peer Calls: answer with SendReply(request_id, ...), now or later from any thread. When
  // unset, every request is answered ENOSYS.
  std::function<void(uint32_t request_id, Request request)> on_request;
  // Once, after the connection died and every stream failed.
  std::function<void(const std::string& reason)> on_closed;
};

class TunnelConnection {
 public:
  // Takes over `socket` (connected, handshake done) and starts the reader and writer threads.
  static std::unique_ptr<TunnelConnection> Start(UniqueFd socket, Role role,
                                                 TunnelHandlers handlers,
                                                 ConnectionOptions options = {});
  // Closes the connection and joins its threads. Streams still held fail with ECONNRESET.
  ~TunnelConnection();
  TunnelConnection(const TunnelConnection&) = delete;
  TunnelConnection& operator=(const TunnelConnection&) = delete;

  // Asks the peer to open a TCP stream to host:port; waits for the answer until `deadline`.
  OpenResult OpenTcp(const std::string& host, uint16_t port, Deadline deadline);
  // The same without waiting: the stream may be written at once (its first kInitialWindow bytes
  // travel right behind the OpenTcp, so a request's first byte costs no extra round trip) and
  // closed for writing; its reads wait for the answer, then for bytes. A refusal fails the
  // stream with the peer's errno (see IoResult), a dead tunnel with ECONNRESET; an open still
  // unanswered at `answer_deadline` is reset (ECONNRESET). Never null.
  std::unique_ptr<TunnelStream> OpenTcpEarly(const std::string& host, uint16_t port,
                                             Deadline answer_deadline);
  // Datagram and DNS traffic; false when the tunnel is dead or its queue stays full until
  // `deadline` (the datagram is dropped, as UDP may).
  bool SendUdpDatagram(uint32_t flow_id, UdpDatagram datagram, Deadline deadline);
  bool SendUdpReply(uint32_t flow_id, UdpReply reply, Deadline deadline);
  DnsResult QueryDns(std::span<const uint8_t> message, Deadline deadline);
  bool SendDnsAnswer(uint32_t query_id, DnsAnswer answer, Deadline deadline);
  bool SendSubnetsChanged(std::vector<std::string> subnets);
  // Sends `body` (JSON text) as a Request and waits for the peer's Reply until `deadline`.
  CallResult Call(std::string body, Deadline deadline);
  // Answers the peer's request `request_id`; false when the tunnel is dead or its queue stays
  // full until `deadline`.
  bool SendReply(uint32_t request_id, Reply reply, Deadline deadline);

  // Makes the connection dead: every stream and query fails, the peer sees the link close.
  void Close(const std::string& reason);
  bool Dead() const;
  // True once dead; false when `deadline` passed first.
  bool WaitUntilDead(Deadline deadline) const;
  std::string FailureReason() const;
  size_t OpenStreamCount() const;

 private:
  explicit TunnelConnection(std::shared_ptr<detail::TunnelLink> link);

  std::shared_ptr<detail::TunnelLink> link_;
  std::thread reader_;
  std::thread writer_;
};

}  // namespace tp::tunnel
