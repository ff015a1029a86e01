// The manager's side of one TCP stream: dial the destination the client asked for, answer the
// open, then copy bytes both ways until both directions have ended, using the kernel's TCP
// stack. The tunnel's credit windows bound what it buffers: when the destination stops
// reading, this stops reading the stream, and the client's writer stops for lack of credit.
#pragma once

#include <chrono>
#include <memory>

#include "tunnel/tunnel_connection.h"

namespace tp::manager {

// Runs on the calling thread (and one more) until the stream is over. A failed dial refuses the
// stream with the dial's errno. When the tunnel dies, returns within a poll slice (250 ms).
void RelayTcpStream(std::unique_ptr<tunnel::TunnelStream> stream, const tunnel::OpenTcp& request,
                    std::chrono::milliseconds connect_timeout);

}  // namespace tp::manager
