// One proxied TCP connection with a one-way delay in each direction.
#pragma once

#include <atomic>
#include <thread>

#include "bench/delay_line.h"
#include "net/unique_fd.h"

namespace tp::bench {

// Relays bytes client->server and server->client, each byte leaving `delay` after it arrived.
// Each direction has a reader thread (socket -> DelayLine) and a writer thread (DelayLine ->
// socket), so latency overlaps: it is a link with latency, not a slow link. A half-close is
// passed on (after the delay) as a shutdown(SHUT_WR). The connection owns both sockets.
class ProxyConnection {
 public:
  ProxyConnection(UniqueFd client, UniqueFd server, Clock::duration delay);
  // Aborts what is still running and joins the threads.
  ~ProxyConnection();
  ProxyConnection(const ProxyConnection&) = delete;
  ProxyConnection& operator=(const ProxyConnection&) = delete;

  // True when both directions have ended (the object can be destroyed without waiting).
  bool Finished() const { return finished_threads_.load() == kThreadCount; }

  // Stops both directions at once: queued data is dropped, sockets are shut down.
  void Abort();

 private:
  static constexpr int kThreadCount = 4;

  struct Direction {
    Direction(int from_fd, int to_fd);
    int from;
    int to;
    DelayLine line;
    std::thread reader;
    std::thread writer;
  };

  void Start(Direction& direction);
  void ReadLoop(Direction& direction);
  void WriteLoop(Direction& direction);

  UniqueFd client_;
  UniqueFd server_;
  const Clock::duration delay_;
  std::atomic<int> finished_threads_{0};
  Direction upstream_;    // client -> server
  Direction downstream_;  // server -> client
};

}  // namespace tp::bench
