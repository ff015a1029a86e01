#include "dns/dns_message.h"

#include <algorithm>

namespace tp::dns {
namespace {

constexpr uint8_t kPointerBits = 0xc0;
// A question takes at least 5 bytes (root name, type, class), a record at least 11.
constexpr size_t kMinQuestionBytes = 5;
constexpr size_t kMinRecordBytes = 11;

char AsciiLower(char letter) {
  return (letter >= 'A' && letter <= 'Z') ? static_cast<char>(letter - 'A' + 'a') : letter;
}

bool SameLabel(std::string_view left, std::string_view right) {
  return left.size() == right.size() &&
         std::equal(left.begin(), left.end(), right.begin(),
                    [](char a, char b) { return AsciiLower(a) == AsciiLower(b); });
}

// Reads big-endian integers and names from a message, never past its end. The first failure
// sticks: later reads return zeros and the error stays the first one.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> message) : message_(message) {}

  size_t offset() const { return offset_; }
  size_t remaining() const { return message_.size() - offset_; }
  ParseError error() const { return error_; }
  bool ok() const { return error_ == ParseError::kNone; }
  void Fail(ParseError error) {
    if (ok()) error_ = error;
  }

  uint16_t U16() {
    if (!Need(2)) return 0;
    const uint16_t value = static_cast<uint16_t>(message_[offset_] << 8 | message_[offset_ + 1]);
    offset_ += 2;
    return value;
  }
  uint32_t U32() {
    const uint32_t high = U16();
    return high << 16 | U16();
  }
  std::span<const uint8_t> Bytes(size_t count) {
    if (!Need(count)) return {};
    const auto bytes = message_.subspan(offset_, count);
    offset_ += count;
    return bytes;
  }

  // A possibly compressed name starting at the current offset; afterwards the offset is just
  // past the name's in-place bytes.
  DnsName Name() {
    DnsName name;
    size_t position = offset_;
    size_t segment_start = offset_;
    size_t wire_length = 1;
    int jumps = 0;
    bool jumped = false;
    while (ok()) {
      if (position >= message_.size()) return Failed(ParseError::kTruncated);
      const uint8_t length = message_[position];
      if ((length & kPointerBits) == kPointerBits) {
        if (position + 1 >= message_.size()) return Failed(ParseError::kTruncated);
        const size_t target =
            static_cast<size_t>(length & ~kPointerBits) << 8 | message_[position + 1];
        if (target >= segment_start) return Failed(ParseError::kBadPointer);
        if (++jumps > kMaxCompressionJumps) return Failed(ParseError::kTooManyJumps);
        if (!jumped) offset_ = position + 2;
        jumped = true;
        position = segment_start = target;
        continue;
      }
      if ((length & kPointerBits) != 0) return Failed(ParseError::kBadLabel);
      if (length == 0) {
        if (!jumped) offset_ = position + 1;
        return name;
      }
      if (position + 1 + length > message_.size()) return Failed(ParseError::kTruncated);
      wire_length += 1 + length;
      if (wire_length > kMaxNameWireLength) return Failed(ParseError::kNameTooLong);
      const auto* start = reinterpret_cast<const char*>(message_.data() + position + 1);
      name.labels.emplace_back(start, length);
      position += 1 + length;
    }
    return {};
  }

 private:
  bool Need(size_t count) {
    if (ok() && remaining() >= count) return true;
    Fail(ParseError::kTruncated);
    return false;
  }
  DnsName Failed(ParseError error) {
    Fail(error);
    return {};
  }

  std::span<const uint8_t> message_;
  size_t offset_ = 0;
  ParseError error_ = ParseError::kNone;
};

void AppendU16(std::vector<uint8_t>& out, uint16_t value) {
  out.push_back(static_cast<uint8_t>(value >> 8));
  out.push_back(static_cast<uint8_t>(value));
}

void AppendU32(std::vector<uint8_t>& out, uint32_t value) {
  AppendU16(out, static_cast<uint16_t>(value >> 16));
  AppendU16(out, static_cast<uint16_t>(value));
}

// False when a label is empty or too long, or the name too long.
bool AppendName(std::vector<uint8_t>& out, const DnsName& name) {
  if (name.WireLength() > kMaxNameWireLength) return false;
  for (const std::string& label : name.labels) {
    if (label.empty() || label.size() > kMaxLabelLength) return false;
    out.push_back(static_cast<uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  return true;
}

// How many leading fixed-size bytes come before the one name at the end of the RDATA of
// `type`, or nullopt for types whose RDATA holds no name we decompress. SOA is special.
std::optional<size_t> FixedBytesBeforeName(uint16_t type) {
  switch (type) {
    case kTypeNs:
    case kTypeCname:
    case kTypePtr:
    case kTypeDname:
      return 0;
    case kTypeMx:
      return 2;
    case kTypeSrv:
      return 6;
    default:
      return std::nullopt;
  }
}

// Reads `length` bytes of RDATA of `type` at the reader's offset, names decompressed.
std::vector<uint8_t> ReadRecordData(Reader& reader, uint16_t type, size_t length) {
  if (reader.remaining() < length) {
    reader.Fail(ParseError::kTruncated);
    return {};
  }
  const size_t end = reader.offset() + length;
  std::vector<uint8_t> data;
  if (type == kTypeSoa) {
    const DnsName primary = reader.Name();
    const DnsName mailbox = reader.Name();
    const auto numbers = reader.Bytes(20);
    if (!reader.ok()) return {};
    AppendName(data, primary);
    AppendName(data, mailbox);
    data.insert(data.end(), numbers.begin(), numbers.end());
  } else if (const auto fixed = FixedBytesBeforeName(type)) {
    const auto leading = reader.Bytes(*fixed);
    const DnsName target = reader.Name();
    if (!reader.ok()) return {};
    data.assign(leading.begin(), leading.end());
    AppendName(data, target);
  } else {
    const auto bytes = reader.Bytes(length);
    data.assign(bytes.begin(), bytes.end());
  }
  if (reader.ok() && reader.offset() != end) reader.Fail(ParseError::kBadRecordData);
  return data;
}

Record ReadRecord(Reader& reader) {
  Record record;
  record.name = reader.Name();
  record.type = reader.U16();
  record.klass = reader.U16();
  record.ttl = reader.U32();
  const uint16_t length = reader.U16();
  if (reader.ok()) record.data = ReadRecordData(reader, record.type, length);
  return record;
}

bool ReadRecords(Reader& reader, uint16_t count, std::vector<Record>& into) {
  if (reader.remaining() / kMinRecordBytes < count) {
    reader.Fail(ParseError::kTooManyEntries);
    return false;
  }
  into.reserve(count);
  for (uint16_t index = 0; index < count && reader.ok(); ++index) {
    into.push_back(ReadRecord(reader));
  }
  return reader.ok();
}

void AppendHeader(std::vector<uint8_t>& out, const Header& header) {
  AppendU16(out, header.id);
  AppendU16(out, header.flags);
  AppendU16(out, header.question_count);
  AppendU16(out, header.answer_count);
  AppendU16(out, header.authority_count);
  AppendU16(out, header.additional_count);
}

bool AppendRecords(std::vector<uint8_t>& out, const std::vector<Record>& records) {
  for (const Record& record : records) {
    if (record.data.size() > 0xffff || !AppendName(out, record.name)) return false;
    AppendU16(out, record.type);
    AppendU16(out, record.klass);
    AppendU32(out, record.ttl);
    AppendU16(out, static_cast<uint16_t>(record.data.size()));
    out.insert(out.end(), record.data.begin(), record.data.end());
  }
  return true;
}

uint16_t ReplyFlags(const Header& query, Rcode rcode) {
  return static_cast<uint16_t>(Header::kResponseBit | (query.flags & 0x7800) |
                               (query.flags & Header::kRecursionDesiredBit) |
                               Header::kRecursionAvailableBit | static_cast<uint16_t>(rcode));
}

}  // namespace

std::optional<DnsName> DnsName::FromText(std::string_view text) {
  if (!text.empty() && text.back() == '.') text.remove_suffix(1);
  DnsName name;
  while (!text.empty()) {
    const size_t dot = text.find('.');
    const std::string_view label = text.substr(0, dot);
    if (label.empty() || label.size() > kMaxLabelLength) return std::nullopt;
    name.labels.emplace_back(label);
    if (dot == std::string_view::npos) break;
    text.remove_prefix(dot + 1);
    if (text.empty()) return std::nullopt;  // "a.." ends with an empty label
  }
  if (name.WireLength() > kMaxNameWireLength) return std::nullopt;
  return name;
}

std::string DnsName::ToText() const {
  if (labels.empty()) return ".";
  std::string text;
  for (const std::string& label : labels) text += label + ".";
  return text;
}

size_t DnsName::WireLength() const {
  size_t length = 1;
  for (const std::string& label : labels) length += 1 + label.size();
  return length;
}

bool DnsName::EndsWith(const DnsName& suffix) const {
  if (suffix.labels.size() > labels.size()) return false;
  const size_t skip = labels.size() - suffix.labels.size();
  for (size_t index = 0; index < suffix.labels.size(); ++index) {
    if (!SameLabel(labels[skip + index], suffix.labels[index])) return false;
  }
  return true;
}

bool DnsName::SameAs(const DnsName& other) const {
  return labels.size() == other.labels.size() && EndsWith(other);
}

DnsName DnsName::Append(const DnsName& suffix) const {
  DnsName joined = *this;
  joined.labels.insert(joined.labels.end(), suffix.labels.begin(), suffix.labels.end());
  return joined;
}

std::string_view ParseErrorName(ParseError error) {
  switch (error) {
    case ParseError::kNone:
      return "none";
    case ParseError::kTruncated:
      return "truncated";
    case ParseError::kBadLabel:
      return "bad label type";
    case ParseError::kNameTooLong:
      return "name too long";
    case ParseError::kBadPointer:
      return "compression pointer not pointing backwards";
    case ParseError::kTooManyJumps:
      return "too many compression pointers";
    case ParseError::kBadRecordData:
      return "record data does not match its type";
    case ParseError::kTooManyEntries:
      return "more entries than the message can hold";
  }
  return "unknown";
}

std::optional<Header> ParseHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) return std::nullopt;
  Reader reader(bytes);
  Header header;
  header.id = reader.U16();
  header.flags = reader.U16();
  header.question_count = reader.U16();
  header.answer_count = reader.U16();
  header.authority_count = reader.U16();
  header.additional_count = reader.U16();
  return header;
}

ParsedMessage ParseMessage(std::span<const uint8_t> bytes) {
  const std::optional<Header> header = ParseHeader(bytes);
  if (!header) return {std::nullopt, ParseError::kTruncated};
  Reader reader(bytes);
  reader.Bytes(kHeaderSize);
  Message message;
  message.header = *header;
  if (reader.remaining() / kMinQuestionBytes < header->question_count) {
    return {std::nullopt, ParseError::kTooManyEntries};
  }
  for (uint16_t index = 0; index < header->question_count && reader.ok(); ++index) {
    Question question;
    question.name = reader.Name();
    question.type = reader.U16();
    question.klass = reader.U16();
    message.questions.push_back(std::move(question));
  }
  const bool complete = reader.ok() && ReadRecords(reader, header->answer_count, message.answers) &&
                        ReadRecords(reader, header->authority_count, message.authorities) &&
                        ReadRecords(reader, header->additional_count, message.additionals);
  if (!complete) return {std::nullopt, reader.error()};
  return {std::move(message), ParseError::kNone};
}

std::vector<uint8_t> EncodeMessage(const Message& message) {
  constexpr size_t kMaxCount = 0xffff;
  if (message.questions.size() > kMaxCount || message.answers.size() > kMaxCount ||
      message.authorities.size() > kMaxCount || message.additionals.size() > kMaxCount) {
    return {};
  }
  Header header = message.header;
  header.question_count = static_cast<uint16_t>(message.questions.size());
  header.answer_count = static_cast<uint16_t>(message.answers.size());
  header.authority_count = static_cast<uint16_t>(message.authorities.size());
  header.additional_count = static_cast<uint16_t>(message.additionals.size());
  std::vector<uint8_t> out;
  AppendHeader(out, header);
  for (const Question& question : message.questions) {
    if (!AppendName(out, question.name)) return {};
    AppendU16(out, question.type);
    AppendU16(out, question.klass);
  }
  if (!AppendRecords(out, message.answers) || !AppendRecords(out, message.authorities) ||
      !AppendRecords(out, message.additionals)) {
    return {};
  }
  return out;
}

Message MakeQuery(uint16_t id, const DnsName& name, uint16_t type) {
  Message query;
  query.header.id = id;
  query.header.flags = Header::kRecursionDesiredBit;
  query.questions.push_back({name, type, kClassIn});
  return query;
}

Message MakeReply(const Message& query, Rcode rcode) {
  Message reply;
  reply.header.id = query.header.id;
  reply.header.flags = ReplyFlags(query.header, rcode);
  reply.questions = query.questions;
  return reply;
}

std::vector<uint8_t> MakeHeaderOnlyReply(const Header& query, Rcode rcode) {
  Header header;
  header.id = query.id;
  header.flags = ReplyFlags(query, rcode);
  std::vector<uint8_t> out;
  AppendHeader(out, header);
  return out;
}

Record MakeAddressRecord(const DnsName& name, std::array<uint8_t, 4> address, uint32_t ttl) {
  return Record{name, kTypeA, kClassIn, ttl, {address.begin(), address.end()}};
}

size_t MaxUdpReplySize(const Message& query) {
  for (const Record& record : query.additionals) {
    if (record.type == kTypeOpt) return std::max<size_t>(record.klass, kClassicUdpPayload);
  }
  return kClassicUdpPayload;
}

std::vector<uint8_t> MakeTruncatedReply(const Message& reply) {
  Message truncated;
  truncated.header = reply.header;
  truncated.header.flags |= Header::kTruncatedBit;
  truncated.questions = reply.questions;
  return EncodeMessage(truncated);
}

}  // namespace tp::dns
