#include "tunnel/byte_ring.h"

#include <gtest/gtest.h>

#include <numeric>
#include <vector>

namespace tp::tunnel {
namespace {

std::vector<uint8_t> Counting(size_t count, uint8_t first = 0) {
  std::vector<uint8_t> bytes(count);
  std::iota(bytes.begin(), bytes.end(), first);
  return bytes;
}

std::vector<uint8_t> TakeAll(ByteRing& ring) {
  std::vector<uint8_t> out(ring.size());
  EXPECT_EQ(ring.Take(out), out.size());
  return out;
}

TEST(ByteRingTest, GivesBackWhatWasAppendedInOrder) {
  ByteRing ring;
  EXPECT_TRUE(ring.empty());
  ring.Append(Counting(100));
  ring.Append(Counting(50, 100));
  EXPECT_EQ(ring.size(), 150u);
  EXPECT_EQ(TakeAll(ring), Counting(150));
  EXPECT_TRUE(ring.empty());
}

TEST(ByteRingTest, ContentThatWrapsAroundComesOutWhole) {
  ByteRing ring;
  const size_t capacity = ByteRing::kMinCapacity;
  ring.Append(Counting(capacity - 10));
  std::vector<uint8_t> first(capacity - 20);
  ASSERT_EQ(ring.Take(first), first.size());
  // 10 bytes remain at the end of the storage; 30 more wrap to its beginning.
  ring.Append(Counting(30, 7));
  iovec pieces[2];
  EXPECT_EQ(ring.Content(pieces), 2u);
  EXPECT_EQ(pieces[0].iov_len + pieces[1].iov_len, 40u);
  std::vector<uint8_t> expected = Counting(10, static_cast<uint8_t>(capacity - 20));
  const std::vector<uint8_t> wrapped = Counting(30, 7);
  expected.insert(expected.end(), wrapped.begin(), wrapped.end());
  EXPECT_EQ(TakeAll(ring), expected);
}

TEST(ByteRingTest, GrowingKeepsTheContentAndItsOrder) {
  ByteRing ring;
  std::vector<uint8_t> expected = Counting(ByteRing::kMinCapacity - 1);
  ring.Append(expected);
  std::vector<uint8_t> head(5);
  ASSERT_EQ(ring.Take(head), 5u);
  expected.erase(expected.begin(), expected.begin() + 5);
  for (const std::vector<uint8_t>& more :
       {Counting(1000, 3), Counting(2 * ByteRing::kMinCapacity, 9)}) {  // a wrap, then growth
    ring.Append(more);
    expected.insert(expected.end(), more.begin(), more.end());
  }
  EXPECT_EQ(TakeAll(ring), expected);
}

TEST(ByteRingTest, FreeSpaceFilledInPlaceBecomesContentAfterCommit) {
  ByteRing ring;
  ring.Reserve(64);
  iovec pieces[2];
  ASSERT_EQ(ring.FreeSpace(64, pieces), 1u);
  ASSERT_GE(pieces[0].iov_len, 64u);
  const std::vector<uint8_t> bytes = Counting(64);
  std::memcpy(pieces[0].iov_base, bytes.data(), 64);
  EXPECT_TRUE(ring.empty());
  ring.Commit(64);
  EXPECT_EQ(TakeAll(ring), bytes);
}

TEST(ByteRingTest, DropForgetsTheOldestBytesOnly) {
  ByteRing ring;
  ring.Append(Counting(20));
  ring.Drop(15);
  EXPECT_EQ(TakeAll(ring), Counting(5, 15));
  ring.Drop(10);  // more than there is: nothing to forget, no harm
  EXPECT_TRUE(ring.empty());
}

TEST(ByteRingTest, AnEmptiedLargeRingGivesItsMemoryBackAndStillWorks) {
  ByteRing ring;
  ring.Append(Counting(4 * ByteRing::kMinCapacity));
  TakeAll(ring);
  ring.ResetIfEmpty(ByteRing::kMinCapacity);
  iovec pieces[2];
  EXPECT_EQ(ring.FreeSpace(1, pieces), 0u) << "the storage was released";
  ring.Append(Counting(3));
  EXPECT_EQ(TakeAll(ring), Counting(3));
}

TEST(ByteRingTest, ResetOfASmallEmptyRingPutsTheFreeSpaceInOnePiece) {
  ByteRing ring;
  ring.Append(Counting(ByteRing::kMinCapacity - 8));
  TakeAll(ring);
  ring.ResetIfEmpty(ByteRing::kMinCapacity);
  iovec pieces[2];
  EXPECT_EQ(ring.FreeSpace(ByteRing::kMinCapacity, pieces), 1u);
  EXPECT_EQ(pieces[0].iov_len, ByteRing::kMinCapacity);
}

}  // namespace
}  // namespace tp::tunnel
