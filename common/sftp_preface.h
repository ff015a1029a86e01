// The SFTP preface: what a client sends on a TCP connection to one of our SFTP endpoints (the
// daemon's SFTP forward, the traffic-agent's SFTP server) before SFTP's INIT, to show that it
// holds the endpoint's token: "tp-sftp <token>\n", kSftpPrefaceSize bytes, the token a
// secret.h token. An endpoint with a token reads exactly that many bytes before anything
// else and closes a connection whose preface is missing, wrong or late; SFTP itself (OpenSSH's
// sftp-server) never sees those bytes. Pure codec plus one blocking read with a deadline.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

#include "common/secret.h"

namespace tp {

inline constexpr std::string_view kSftpPrefaceTag = "tp-sftp ";
inline constexpr size_t kSftpPrefaceSize = kSftpPrefaceTag.size() + kSecretTokenLength + 1;
// How long an endpoint waits for a preface.
inline constexpr std::chrono::milliseconds kSftpPrefaceTimeout{3000};

// The preface for `token` (a secret.h token).
std::string SftpPreface(std::string_view token);

// Whether `received` (kSftpPrefaceSize bytes) is the preface for `token`.
bool IsSftpPrefaceFor(std::string_view received, std::string_view token);

// Reads the preface from socket `fd` (blocking or not) within `timeout` and checks it against
// `token`. "" when it matches; otherwise why not ("no preface within 3000 ms", "a wrong token",
// "the connection ended"), and the caller closes the connection. Reads nothing past the preface.
std::string ExpectSftpPreface(int fd, std::string_view token,
                              std::chrono::milliseconds timeout = kSftpPrefaceTimeout);

}  // namespace tp
