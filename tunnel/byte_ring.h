// ByteRing: the bytes received for one tunnel stream and not read yet, in a ring that grows on
// demand (a stream's content never exceeds its window, so neither does the ring). Built for one
// receiving thread and readers that take turns under the stream's lock: the receiver may fill
// the free space that FreeSpace described (without the lock) while a reader takes content out,
// because Take and Drop never move the free space. Not thread-safe by itself.
#pragma once

#include <sys/uio.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>

namespace tp::tunnel {

class ByteRing {
 public:
  // The first allocation; the ring then doubles as needed.
  static constexpr size_t kMinCapacity = 64 * 1024;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Makes room for `count` more bytes, keeping the content.
  void Reserve(size_t count) {
    if (capacity_ - size_ >= count) return;
    size_t capacity = std::max(capacity_, kMinCapacity);
    while (capacity - size_ < count) capacity *= 2;
    auto storage = std::make_unique_for_overwrite<uint8_t[]>(capacity);
    CopyOut(storage.get(), size_);
    storage_ = std::move(storage);
    capacity_ = capacity;
    head_ = 0;
  }
  // Describes up to `count` bytes of free space (Reserve first) as at most two iovecs appended
  // at `out`; returns how many iovecs.
  size_t FreeSpace(size_t count, iovec* out) {
    count = std::min(count, capacity_ - size_);
    const size_t tail = (head_ + size_) % std::max<size_t>(capacity_, 1);
    const size_t first = std::min(count, capacity_ - tail);
    size_t pieces = 0;
    if (first > 0) out[pieces++] = {storage_.get() + tail, first};
    if (count > first) out[pieces++] = {storage_.get(), count - first};
    return pieces;
  }
  // The first `count` bytes of the free space now hold data.
  void Commit(size_t count) { size_ += count; }
  void Append(std::span<const uint8_t> bytes) {
    Reserve(bytes.size());
    iovec pieces[2];
    const size_t count = FreeSpace(bytes.size(), pieces);
    for (size_t index = 0; index < count; ++index) {
      std::memcpy(pieces[index].iov_base, bytes.data(), pieces[index].iov_len);
      bytes = bytes.subspan(pieces[index].iov_len);
    }
    Commit(count > 0 ? pieces[0].iov_len + (count > 1 ? pieces[1].iov_len : 0) : 0);
  }
  // Moves up to into.size() bytes out; returns how many. Leaves the free space where it is (the
  // reader thread may be receiving into it).
  size_t Take(std::span<uint8_t> into) {
    const size_t count = std::min(into.size(), size_);
    if (count == 0) return 0;
    CopyOut(into.data(), count);
    head_ = (head_ + count) % capacity_;
    size_ -= count;
    return count;
  }
  // Describes the content (oldest first) as at most two iovecs at `out`; returns how many.
  size_t Content(iovec* out) const {
    size_t pieces = 0;
    const size_t first = std::min(size_, capacity_ - head_);
    if (first > 0) out[pieces++] = {storage_.get() + head_, first};
    if (size_ > first) out[pieces++] = {storage_.get(), size_ - first};
    return pieces;
  }
  // Forgets the oldest `count` bytes of the content.
  void Drop(size_t count) {
    count = std::min(count, size_);
    if (count == 0) return;
    head_ = (head_ + count) % capacity_;
    size_ -= count;
  }
  // When empty (and nobody receives into the free space): gives the memory back if larger than
  // `keep`, else starts over at its beginning so the free space is in one piece.
  void ResetIfEmpty(size_t keep) {
    if (size_ != 0) return;
    head_ = 0;
    if (capacity_ <= keep) return;
    storage_.reset();
    capacity_ = 0;
  }

 private:
  void CopyOut(uint8_t* to, size_t count) const {
    if (count == 0) return;
    const size_t first = std::min(count, capacity_ - head_);
    std::memcpy(to, storage_.get() + head_, first);
    std::memcpy(to + first, storage_.get(), count - first);
  }

  std::unique_ptr<uint8_t[]> storage_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace tp::tunnel
