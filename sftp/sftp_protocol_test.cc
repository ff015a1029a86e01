#include "sftp/sftp_protocol.h"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace tp::sftp {
namespace {

std::span<const uint8_t> Body(const std::vector<uint8_t>& packet) {
  return std::span<const uint8_t>(packet).subspan(4);
}

TEST(PacketWriter, EncodesLengthTypeAndBigEndianFields) {
  auto packet = std::move(PacketWriter(PacketType::kOpen).U32(7).String("ab").U64(1)).Finish();
  const std::vector<uint8_t> expected = {0, 0,   0,   19, 3, 0, 0, 0, 7, 0, 0, 0,
                                         2, 'a', 'b', 0,  0, 0, 0, 0, 0, 0, 1};
  EXPECT_EQ(packet, expected);
}

TEST(PacketWriter, TrailingBytesCountInTheLengthButAreLeftToTheSender) {
  const std::vector<uint8_t> data = {'d', 'a', 't', 'a', '!'};
  PacketWriter writer(PacketType::kWrite);
  writer.U32(9).String("h").U64(0).TrailingBytes(data);
  ASSERT_EQ(writer.trailer().data(), data.data());  // not copied
  ASSERT_EQ(writer.trailer().size(), data.size());
  std::vector<uint8_t> packet = std::move(writer).Finish();
  // length | type | id | "h" | offset | data length (the data itself follows on the wire)
  ASSERT_EQ(packet.size(), 4u + 1 + 4 + 5 + 8 + 4);
  EXPECT_EQ(packet[3], packet.size() - 4 + data.size());
  packet.insert(packet.end(), data.begin(), data.end());
  PacketReader reader(std::span<const uint8_t>(packet).subspan(5));
  EXPECT_EQ(reader.U32(), 9u);
  EXPECT_EQ(reader.String(), "h");
  EXPECT_EQ(reader.U64(), 0u);
  EXPECT_EQ(reader.String(), "data!");
  EXPECT_TRUE(reader.ok() && reader.AtEnd());
}

TEST(PacketRoundTrip, AttributesWithEveryField) {
  FileAttributes attributes;
  attributes.flags = FileAttributes::kSize | FileAttributes::kUidGid |
                     FileAttributes::kPermissions | FileAttributes::kAccessModifyTime;
  attributes.size = 1ull << 40;
  attributes.uid = 1000;
  attributes.gid = 100;
  attributes.permissions = 0100644;
  attributes.atime = 1700000000;
  attributes.mtime = 1700000001;
  auto packet = std::move(PacketWriter(PacketType::kAttrs).Attributes(attributes)).Finish();
  PacketReader reader(Body(packet));
  EXPECT_EQ(reader.U8(), static_cast<uint8_t>(PacketType::kAttrs));
  EXPECT_EQ(reader.Attributes(), attributes);
  EXPECT_TRUE(reader.ok());
  EXPECT_TRUE(reader.AtEnd());
}

TEST(PacketRoundTrip, AttributesWithOnlySomeFields) {
  FileAttributes attributes;
  attributes.flags = FileAttributes::kPermissions;
  attributes.permissions = 040755;
  auto packet = std::move(PacketWriter(PacketType::kAttrs).Attributes(attributes)).Finish();
  EXPECT_EQ(packet.size(), 4u + 1 + 4 + 4);
  PacketReader reader(Body(packet));
  reader.U8();
  EXPECT_EQ(reader.Attributes(), attributes);
}

TEST(PacketReader, ExtendedAttributesAreSkipped) {
  auto packet = std::move(PacketWriter(PacketType::kAttrs)
                              .U32(FileAttributes::kExtended | FileAttributes::kSize)
                              .U64(5)
                              .U32(1)
                              .String("type")
                              .String("data")
                              .U32(99))
                    .Finish();
  PacketReader reader(Body(packet));
  reader.U8();
  EXPECT_EQ(reader.Attributes().size, 5u);
  EXPECT_EQ(reader.U32(), 99u);
  EXPECT_TRUE(reader.ok());
}

TEST(PacketReader, TruncatedInputFailsWithoutReadingPastTheEnd) {
  const std::vector<uint8_t> body = {0, 0, 0, 10, 'a', 'b'};  // string claims 10 bytes, has 2
  PacketReader reader(body);
  EXPECT_EQ(reader.String(), "");
  EXPECT_FALSE(reader.ok());
  EXPECT_EQ(reader.U32(), 0u);  // stays failed
}

TEST(PacketReader, NamesWithLyingCountIsRejected) {
  auto packet = std::move(PacketWriter(PacketType::kName).U32(0xffffffff)).Finish();
  PacketReader reader(Body(packet));
  reader.U8();
  EXPECT_TRUE(reader.Names().empty());
  EXPECT_FALSE(reader.ok());
}

TEST(PacketReader, NamesDecodeEntries) {
  FileAttributes attributes;
  attributes.flags = FileAttributes::kSize;
  attributes.size = 3;
  auto packet = std::move(PacketWriter(PacketType::kName)
                              .U32(2)
                              .String("a")
                              .String("-rw a")
                              .Attributes(attributes)
                              .String("b")
                              .String("-rw b")
                              .Attributes(attributes))
                    .Finish();
  PacketReader reader(Body(packet));
  reader.U8();
  auto names = reader.Names();
  ASSERT_EQ(names.size(), 2u);
  EXPECT_EQ(names[1].filename, "b");
  EXPECT_EQ(names[1].attributes.size, 3u);
  EXPECT_TRUE(reader.AtEnd());
}

TEST(StatusToErrno, MapsCodes) {
  EXPECT_EQ(StatusToErrno(StatusCode::kOk), 0);
  EXPECT_EQ(StatusToErrno(StatusCode::kEof), 0);
  EXPECT_EQ(StatusToErrno(StatusCode::kNoSuchFile), ENOENT);
  EXPECT_EQ(StatusToErrno(StatusCode::kPermissionDenied), EACCES);
  EXPECT_EQ(StatusToErrno(StatusCode::kOpUnsupported), EOPNOTSUPP);
  EXPECT_EQ(StatusToErrno(StatusCode::kConnectionLost), EIO);
  EXPECT_EQ(StatusToErrno(static_cast<StatusCode>(77)), EIO);
}

TEST(OpenFlagsFromPosix, MapsAccessModeAndCreationFlags) {
  EXPECT_EQ(OpenFlagsFromPosix(O_RDONLY), kOpenRead);
  EXPECT_EQ(OpenFlagsFromPosix(O_WRONLY | O_CREAT | O_TRUNC),
            kOpenWrite | kOpenCreate | kOpenTruncate);
  EXPECT_EQ(OpenFlagsFromPosix(O_RDWR | O_APPEND | O_EXCL | O_CREAT),
            kOpenRead | kOpenWrite | kOpenAppend | kOpenExclusive | kOpenCreate);
}

}  // namespace
}  // namespace tp::sftp
