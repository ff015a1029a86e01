// The tunnel's opening exchange, done on the connected socket before a TunnelConnection takes
// it over: the client sends Hello (protocol version, name, shared secret), the manager answers
// Welcome or Refused (and then closes). Blocking, bounded by a deadline, reads no byte past the
// answer. The link is expected to be private already (kubectl port-forward or equivalent): the
// secret proves the client is ours, it encrypts nothing. No TLS here.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "tunnel/tunnel_frame.h"

namespace tp::tunnel {

struct ClientHandshakeResult {
  std::optional<Welcome> welcome;  // set when the manager accepted us
  bool refused = false;            // the manager answered Refused; `error` holds its reason
  std::string error;
};

// Sends `hello` and reads the manager's answer.
ClientHandshakeResult ClientHandshake(int socket, const Hello& hello,
                                      std::chrono::steady_clock::time_point deadline);

struct ServerHandshakeResult {
  bool accepted = false;
  Hello hello;        // what the client sent (its secret blanked)
  std::string error;  // why the client was not accepted
};

// The secret a client that names itself `client_name` in its Hello must present (each role has
// its own); nullopt when no client of that name is accepted.
using SecretForClient = std::function<std::optional<std::string>(std::string_view client_name)>;

// Reads Hello, checks the version and the secret its client name calls for (in constant time),
// sends `welcome` or Refused. On refusal the caller closes the socket.
ServerHandshakeResult ServerHandshake(int socket, const SecretForClient& secret_for,
                                      const Welcome& welcome,
                                      std::chrono::steady_clock::time_point deadline);

struct ReadFrameResult {
  std::optional<Frame> frame;
  std::string error;
};
// Reads exactly one handshake frame (at most 64 KiB) from a socket before `deadline`.
ReadFrameResult ReadOneFrame(int socket, std::chrono::steady_clock::time_point deadline);
// Writes all of `bytes` before `deadline`; false on error or timeout.
bool WriteAll(int socket, std::span<const uint8_t> bytes,
              std::chrono::steady_clock::time_point deadline);

}  // namespace tp::tunnel
