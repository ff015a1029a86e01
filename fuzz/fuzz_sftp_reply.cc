// libFuzzer target: one SFTP v3 reply as SftpSession hands it to its callers (the packet after
// its length field: type, id, payload), decoded the way the telemount file system decodes each
// type, then with every PacketReader field reader. Checks that decoding never reads out of
// bounds, never allocates more than the packet allows, and that attributes re-encode to what
// was read.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "sftp/sftp_protocol.h"
#include "sftp/sftp_session.h"

namespace {

using tp::sftp::FileAttributes;
using tp::sftp::PacketReader;
using tp::sftp::PacketType;
using tp::sftp::PacketWriter;
using tp::sftp::SftpReply;

void Check(bool condition) {
  if (!condition) std::abort();
}

// Attributes written back and read again are the same (the extended pairs are dropped).
void CheckAttributesRoundTrip(const FileAttributes& attributes) {
  const std::vector<uint8_t> packet =
      std::move(PacketWriter(PacketType::kAttrs).Attributes(attributes)).Finish();
  PacketReader reader(std::span<const uint8_t>(packet).subspan(5));
  FileAttributes again = reader.Attributes();
  Check(reader.ok() && reader.AtEnd());
  FileAttributes expected = attributes;
  expected.flags &= ~FileAttributes::kExtended;
  Check(again == expected);
}

// What the file system reads from a reply of each type (telemount/fs/sftp_filesystem.cc).
void DecodeAsTheClientDoes(const SftpReply& reply) {
  PacketReader payload = reply.Payload();
  switch (reply.type()) {
    case PacketType::kStatus: {
      static_cast<void>(tp::sftp::StatusToErrno(reply.Status()));
      payload.U32();     // code
      payload.String();  // message
      payload.String();  // language tag
      break;
    }
    case PacketType::kHandle:
      payload.String();
      break;
    case PacketType::kData:
      payload.StringBytes();
      break;
    case PacketType::kName: {
      const size_t before = payload.remaining();
      const auto names = payload.Names();
      Check(names.size() <= before / 12);  // a lying count never allocates more
      if (!payload.ok()) Check(names.empty());
      break;
    }
    case PacketType::kAttrs: {
      const FileAttributes attributes = payload.Attributes();
      if (payload.ok()) CheckAttributesRoundTrip(attributes);
      break;
    }
    case PacketType::kExtendedReply:
      payload.StatVfs();
      break;
    default:
      break;
  }
  Check(payload.remaining() <= reply.packet.size());
}

// Every field reader on its own, from the start of the payload, as a hostile server could make
// any of them run on any bytes.
void DecodeWithEveryReader(const SftpReply& reply) {
  PacketReader attributes = reply.Payload();
  attributes.Attributes();
  PacketReader names = reply.Payload();
  names.Names();
  PacketReader stats = reply.Payload();
  stats.StatVfs();
  // The VERSION reply's extension pairs, read until the end as the handshake does.
  PacketReader version(reply.packet);
  version.U8();
  version.U32();
  while (version.ok() && !version.AtEnd()) {
    version.String();
    version.String();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > tp::sftp::kMaxPacketLength) return 0;  // the session refuses longer packets
  SftpReply reply;
  reply.packet.assign(data, data + size);
  for (PacketType expected : {PacketType::kStatus, PacketType::kHandle, PacketType::kData,
                              PacketType::kName, PacketType::kAttrs, PacketType::kExtendedReply}) {
    static_cast<void>(reply.Errno(expected));
  }
  static_cast<void>(tp::sftp::PacketTypeName(reply.type()));
  DecodeAsTheClientDoes(reply);
  DecodeWithEveryReader(reply);
  return 0;
}
