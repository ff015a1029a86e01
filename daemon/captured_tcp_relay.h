// The relay of one captured TCP connection through its tunnel stream, both ways, until both
// directions have ended. A half-close (FIN) on either side is passed on as a half-close; a reset
// or an error on either side resets the other. Both ways move the bytes through a pipe with
// splice(2), without a copy through user space: client -> stream with TunnelStream::
// WriteFromPipe (copying through one 256 KiB buffer where splicing is refused), stream ->
// client with TunnelStream::ReadToSocket. When the client stops reading, the stream
// is no longer read and the tunnel's credit window stops the far side; when the stream stops
// taking bytes, the client is no longer read.
#pragma once

#include "common/task_group.h"
#include "daemon/stop_event.h"
#include "tunnel/tunnel_connection.h"

namespace tp::daemon {

enum class RelayEnd {
  kClosed,  // both directions ended with a half-close: close the client socket normally
  kReset,   // the stream was reset: reset the client too (ResetAndClose)
};

// Runs on the calling thread and one more. Returns within a quarter of a second of `stop`
// triggering (both sides reset then). `client_socket` stays open; the caller closes it.
// The way back runs on a waiting thread of `helpers` when it has one (see CompanionTask).
RelayEnd RelayCapturedTcp(int client_socket, tunnel::TunnelStream& stream, const StopEvent& stop,
                          TaskGroup* helpers = nullptr);

// Closes `socket` with an RST instead of a FIN (SO_LINGER 0): the peer sees ECONNRESET at once.
void ResetAndClose(UniqueFd socket);

}  // namespace tp::daemon
