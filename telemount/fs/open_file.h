// Internal to SftpFileSystem (its .cc files): the state of one open file, its read-ahead and its
// pipelined writes, and the sizes that shape them.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <future>
#include <map>
#include <memory>
#include <string>

#include "sftp/sftp_session.h"
#include "sync/mutex.h"
#include "telemount/fs/data_generations.h"
#include "telemount/fs/sftp_filesystem.h"

namespace tp::telemount {

inline constexpr uint64_t kReadChunk =
    192 * 1024;                                 // one READ request (OpenSSH serves up to 255 KiB)
inline constexpr size_t kMinWindowChunks = 4;   // prefetch once a reader is sequential
inline constexpr size_t kMaxWindowChunks = 64;  // 12 MiB ahead at most
// A sequential reader on a slow link opens its window to kWideWindowChunks at once: 30 MiB, a
// 50 ms link's round trip at 600 MB/s. The link is slow when the file's open took kSlowLink or
// more (a round trip; reads are no measure: the server's disk or a busy machine make them wait).
// On a fast link a wide window only costs memory and time. The mount lets kWideReaders readers
// have one at a time, which bounds the memory read-ahead can take.
inline constexpr std::chrono::milliseconds kSlowLink{10};
inline constexpr size_t kWideWindowChunks = 160;
inline constexpr int kWideReaders = 2;
inline constexpr size_t kWriteChunk = 192 * 1024;      // one WRITE request
inline constexpr size_t kMaxWriteInFlight = 16 << 20;  // bytes written but not yet acknowledged

// Waits for a shared reply within the session's deadline; a timeout breaks the session.
inline const sftp::SftpReply& AwaitShared(sftp::SftpSession& session,
                                          const std::shared_future<sftp::SftpReply>& reply,
                                          std::chrono::milliseconds timeout) {
  if (reply.wait_for(timeout) != std::future_status::ready) {
    session.Break("no reply within " + std::to_string(timeout.count()) + " ms");
  }
  return reply.get();
}

// State of one open file. The session is the one the handle belongs to: after a reconnect it is
// broken, and so every later operation on this handle fails with EIO.
struct SftpFileSystem::OpenFile {
  struct PendingWrite {
    std::shared_future<sftp::SftpReply> reply;
    size_t bytes;
  };

  std::shared_ptr<sftp::SftpSession> session;
  std::string handle;
  std::string remote_path;
  std::chrono::milliseconds timeout;
  // Set by the first write: the file's attributes on the server change until it is closed.
  std::atomic<bool> wrote{false};
  // Its open took kSlowLink or more.
  bool slow_link = false;
  // The mount's count of wide readers; this file is one while `wide`.
  std::atomic<int>* wide_readers = nullptr;
  std::atomic<bool> wide{false};

  ~OpenFile() {
    if (wide) wide_readers->fetch_sub(1);
  }
  // Becomes a wide reader if the mount has room for one more; true if it is one.
  bool TryWiden() {
    if (wide) return true;
    for (int count = wide_readers->load(); count < kWideReaders;) {
      if (wide_readers->compare_exchange_weak(count, count + 1)) return wide = true;
    }
    return false;
  }
  // Moves with every change of the file's contents made through this mount (DataGenerations).
  std::shared_ptr<DataGenerations::Counter> data_generation;

  // Guards the members below; never held across a send or a wait.
  Mutex mutex;
  // Read-ahead: chunk index -> its READ request, all asked for at `chunks_generation`.
  std::map<uint64_t, std::shared_future<sftp::SftpReply>> chunks GUARDED_BY(mutex);
  uint64_t chunks_generation GUARDED_BY(mutex) = 0;
  // Nothing read yet: the first read prefetches nothing.
  uint64_t next_offset GUARDED_BY(mutex) = UINT64_MAX;
  size_t window GUARDED_BY(mutex) = 0;
  // The chunk where the file ended when last seen.
  uint64_t end_chunk_hint GUARDED_BY(mutex) = UINT64_MAX;
  // Pipelined writes.
  std::deque<PendingWrite> writes GUARDED_BY(mutex);
  size_t write_bytes_in_flight GUARDED_BY(mutex) = 0;
  int write_error GUARDED_BY(mutex) = 0;

  // Registers the READ of chunk `index`; the caller transmits `outgoing` after unlocking.
  std::shared_future<sftp::SftpReply> PrepareChunk(uint64_t index,
                                                   sftp::SftpSession::Outgoing* outgoing) {
    return session
        ->Prepare(
            sftp::PacketType::kRead,
            [&](sftp::PacketWriter& writer) {
              writer.String(handle).U64(index * kReadChunk).U32(kReadChunk);
            },
            outgoing)
        .share();
  }
  // Drops the read-ahead when the file changed since it was asked for.
  void DropStaleChunks() REQUIRES(mutex) {
    const uint64_t now = data_generation->load();
    if (now == chunks_generation) return;
    chunks.clear();
    window = 0;
    end_chunk_hint = UINT64_MAX;
    chunks_generation = now;
  }
  // Takes the acknowledged writes off the queue, keeping the first error.
  void ReapAcknowledgedWrites() REQUIRES(mutex) {
    while (!writes.empty() &&
           writes.front().reply.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
      if (int failure = writes.front().reply.get().Errno(); failure != 0 && write_error == 0) {
        write_error = failure;
      }
      write_bytes_in_flight -= writes.front().bytes;
      writes.pop_front();
    }
  }
};

}  // namespace tp::telemount
