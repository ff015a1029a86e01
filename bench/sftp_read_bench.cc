// sftp-read-bench HOST PORT /remote/file [CHUNK_KIB] [IN_FLIGHT]: reads a remote file over SFTP
// with many requests in flight and no FUSE, and prints the rate: the server's own limit.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>

#include "sftp/sftp_session.h"

using tp::sftp::PacketType;
using tp::sftp::PacketWriter;

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: sftp-read-bench HOST PORT /remote/file [CHUNK_KIB] [IN_FLIGHT]\n");
    return 2;
  }
  tp::sftp::SessionOptions options;
  options.host = argv[1];
  options.port = static_cast<uint16_t>(std::atoi(argv[2]));
  const std::string path = argv[3];
  const uint32_t chunk = (argc > 4 ? std::atoi(argv[4]) : 192) * 1024;
  const size_t in_flight = argc > 5 ? std::atoi(argv[5]) : 32;
  std::string error;
  auto session = tp::sftp::SftpSession::Connect(options, &error);
  if (!session) {
    std::fprintf(stderr, "sftp-read-bench: %s\n", error.c_str());
    return 1;
  }
  auto opened = session->Call(
      PacketType::kOpen, [&](PacketWriter& w) { w.String(path).U32(tp::sftp::kOpenRead).U32(0); });
  if (opened.Errno(PacketType::kHandle) != 0) {
    std::fprintf(stderr, "sftp-read-bench: cannot open %s\n", path.c_str());
    return 1;
  }
  const std::string handle = opened.Payload().String();
  const auto start = std::chrono::steady_clock::now();
  std::deque<tp::sftp::PendingReply> pending;
  uint64_t offset = 0, total = 0;
  bool at_end = false;
  auto request = [&] {
    pending.push_back(session->Send(
        PacketType::kRead, [&](PacketWriter& w) { w.String(handle).U64(offset).U32(chunk); }));
    offset += chunk;
  };
  for (size_t i = 0; i < in_flight; ++i) request();
  while (!pending.empty()) {
    auto reply = session->Await(pending.front());
    pending.pop_front();
    if (reply.Errno(PacketType::kData) != 0) {
      at_end = true;
      continue;
    }
    total += reply.Payload().StringBytes().size();
    if (!at_end) request();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%llu bytes in %.3f s: %.1f MB/s\n", static_cast<unsigned long long>(total), seconds,
              total / seconds / 1e6);
  return 0;
}
