// DNS messages (RFC 1035) as values: pure, bounds-checked parsing and uncompressed encoding over
// byte spans. No I/O and no global state. Malformed input decodes to an error value, never a
// crash, never a read past the span and never an allocation larger than the input allows.
//
// Names may use compression pointers; a pointer must point before the segment of the name that
// holds it (as every real compressor does), which alone makes loops impossible, and there are at
// most kMaxCompressionJumps of them per name. Names in the RDATA of the classic types that may
// be compressed (NS, CNAME, PTR, DNAME, MX, SRV, SOA) are decompressed while parsing, so a
// parsed Record's `data` is self-contained and can be re-encoded anywhere.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tp::dns {

inline constexpr size_t kHeaderSize = 12;
inline constexpr size_t kMaxLabelLength = 63;
inline constexpr size_t kMaxNameWireLength = 255;
inline constexpr int kMaxCompressionJumps = 32;
// A client without EDNS accepts at most this many bytes over UDP.
inline constexpr size_t kClassicUdpPayload = 512;

inline constexpr uint16_t kTypeA = 1;
inline constexpr uint16_t kTypeNs = 2;
inline constexpr uint16_t kTypeCname = 5;
inline constexpr uint16_t kTypeSoa = 6;
inline constexpr uint16_t kTypePtr = 12;
inline constexpr uint16_t kTypeMx = 15;
inline constexpr uint16_t kTypeTxt = 16;
inline constexpr uint16_t kTypeAaaa = 28;
inline constexpr uint16_t kTypeSrv = 33;
inline constexpr uint16_t kTypeDname = 39;
inline constexpr uint16_t kTypeOpt = 41;
inline constexpr uint16_t kClassIn = 1;

enum class Rcode : uint8_t {
  kNoError = 0,
  kFormErr = 1,
  kServFail = 2,
  kNxDomain = 3,
  kNotImp = 4,
  kRefused = 5,
};

// A domain name as its labels, without the root label (no labels: the root). Labels are raw
// bytes; comparisons ignore ASCII case, as DNS does.
struct DnsName {
  std::vector<std::string> labels;

  // "echo.default" or "echo.default." (same name); "." or "" is the root. nullopt for an empty
  // label ("a..b") or a label over 63 bytes or a name over 255 bytes on the wire.
  static std::optional<DnsName> FromText(std::string_view text);
  // "echo.default." (always with the trailing dot); "." for the root. For logs and tests.
  std::string ToText() const;
  // Bytes on the wire, uncompressed, with the root label.
  size_t WireLength() const;
  // Whether `suffix`'s labels are the last labels of this name (every name ends with the root).
  bool EndsWith(const DnsName& suffix) const;
  bool SameAs(const DnsName& other) const;
  // This name followed by `suffix`'s labels.
  DnsName Append(const DnsName& suffix) const;

  bool operator==(const DnsName&) const = default;  // exact bytes, case-sensitive
};

struct Header {
  uint16_t id = 0;
  uint16_t flags = 0;
  uint16_t question_count = 0;
  uint16_t answer_count = 0;
  uint16_t authority_count = 0;
  uint16_t additional_count = 0;

  static constexpr uint16_t kResponseBit = 0x8000;
  static constexpr uint16_t kTruncatedBit = 0x0200;
  static constexpr uint16_t kRecursionDesiredBit = 0x0100;
  static constexpr uint16_t kRecursionAvailableBit = 0x0080;

  bool IsResponse() const { return (flags & kResponseBit) != 0; }
  uint8_t Opcode() const { return static_cast<uint8_t>((flags >> 11) & 0xf); }
  Rcode rcode() const { return static_cast<Rcode>(flags & 0xf); }
  bool operator==(const Header&) const = default;
};

struct Question {
  DnsName name;
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;
  bool operator==(const Question&) const = default;
};

struct Record {
  DnsName name;
  uint16_t type = kTypeA;
  uint16_t klass = kClassIn;
  uint32_t ttl = 0;
  std::vector<uint8_t> data;  // RDATA with any names uncompressed
  bool operator==(const Record&) const = default;
};

// A whole message. On encoding, the header's counts are taken from the sections' sizes.
struct Message {
  Header header;
  std::vector<Question> questions;
  std::vector<Record> answers;
  std::vector<Record> authorities;
  std::vector<Record> additionals;
  bool operator==(const Message&) const = default;
};

enum class ParseError {
  kNone,
  kTruncated,       // a field runs past the end of the message
  kBadLabel,        // a label type other than length or pointer (0x40, 0x80)
  kNameTooLong,     // over 255 bytes on the wire
  kBadPointer,      // a compression pointer that does not point backwards
  kTooManyJumps,    // more than kMaxCompressionJumps pointers in one name
  kBadRecordData,   // RDATA that does not match its type's layout
  kTooManyEntries,  // counts that the remaining bytes cannot possibly hold
};
std::string_view ParseErrorName(ParseError error);

struct ParsedMessage {
  std::optional<Message> message;
  ParseError error = ParseError::kNone;
};

// The 12-byte header; nullopt when `bytes` is shorter.
std::optional<Header> ParseHeader(std::span<const uint8_t> bytes);
// The header and every section. Bytes after the last record are ignored.
ParsedMessage ParseMessage(std::span<const uint8_t> bytes);
// The uncompressed encoding of `message` (its header counts replaced by the section sizes).
// Empty when a section has more than 65535 entries or a name or RDATA breaks a limit.
std::vector<uint8_t> EncodeMessage(const Message& message);

// A query for `name` with recursion desired.
Message MakeQuery(uint16_t id, const DnsName& name, uint16_t type);
// The start of a reply to `query`: same id, opcode, RD bit and questions; QR and RA set;
// `rcode`; no records (the caller may add some).
Message MakeReply(const Message& query, Rcode rcode);
// A header-only reply for a query whose question could not be parsed (FORMERR and the like).
std::vector<uint8_t> MakeHeaderOnlyReply(const Header& query, Rcode rcode);
// An A record.
Record MakeAddressRecord(const DnsName& name, std::array<uint8_t, 4> address, uint32_t ttl);
// The largest UDP reply the sender of `query` accepts: its EDNS payload size, or 512.
size_t MaxUdpReplySize(const Message& query);
// `reply` with every record dropped and TC set, for a reply too large for UDP.
std::vector<uint8_t> MakeTruncatedReply(const Message& reply);

}  // namespace tp::dns
