#include "tunnel/tunnel_frame.h"

#include <array>
#include <limits>
#include <utility>

namespace tp::tunnel {
namespace {

constexpr size_t kMaxShortLength = std::numeric_limits<uint16_t>::max();
constexpr uint8_t kLastFrameType = static_cast<uint8_t>(FrameType::kReply);

// Appends big-endian fields to a byte vector; remembers whether a limit was broken.
class ByteWriter {
 public:
  explicit ByteWriter(std::vector<uint8_t>& out) : out_(out) {}

  void U8(uint8_t value) { out_.push_back(value); }
  void U16(uint16_t value) {
    out_.push_back(static_cast<uint8_t>(value >> 8));
    out_.push_back(static_cast<uint8_t>(value));
  }
  void U32(uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
      out_.push_back(static_cast<uint8_t>(value >> shift));
  }
  void U64(uint64_t value) {
    for (int shift = 56; shift >= 0; shift -= 8)
      out_.push_back(static_cast<uint8_t>(value >> shift));
  }
  void String(std::string_view value) {
    if (value.size() > kMaxShortLength) {
      ok_ = false;
      return;
    }
    U16(static_cast<uint16_t>(value.size()));
    out_.insert(out_.end(), value.begin(), value.end());
  }
  void StringList(const std::vector<std::string>& values) {
    if (values.size() > kMaxShortLength) {
      ok_ = false;
      return;
    }
    U16(static_cast<uint16_t>(values.size()));
    for (const auto& value : values) String(value);
  }
  // Bytes that run to the end of the frame: no length prefix.
  void Rest(std::span<const uint8_t> bytes) { out_.insert(out_.end(), bytes.begin(), bytes.end()); }
  void Rest(std::string_view text) { out_.insert(out_.end(), text.begin(), text.end()); }
  bool ok() const { return ok_; }

 private:
  std::vector<uint8_t>& out_;
  bool ok_ = true;
};

// Reads big-endian fields from one frame's payload. A read past the end makes ok() false for
// good and returns zero values, so decoders check once at the end.
class ByteReader {
 public:
  explicit ByteReader(std::span<const uint8_t> bytes) : bytes_(bytes) {}

  uint8_t U8() { return Need(1) ? bytes_[position_++] : 0; }
  uint16_t U16() { return static_cast<uint16_t>(Unsigned(2)); }
  uint32_t U32() { return static_cast<uint32_t>(Unsigned(4)); }
  uint64_t U64() { return Unsigned(8); }
  std::string String() {
    const size_t length = U16();
    if (!Need(length)) return {};
    std::string value(reinterpret_cast<const char*>(bytes_.data() + position_), length);
    position_ += length;
    return value;
  }
  std::vector<std::string> StringList() {
    const size_t count = U16();
    std::vector<std::string> values;
    // Each entry needs at least its two length bytes: a lying count fails before allocating.
    if (!Need(count * 2)) return values;
    values.reserve(count);
    for (size_t index = 0; index < count && ok_; ++index) values.push_back(String());
    return values;
  }
  std::vector<uint8_t> Rest() {
    std::vector<uint8_t> value(bytes_.begin() + static_cast<std::ptrdiff_t>(position_),
                               bytes_.end());
    position_ = bytes_.size();
    return value;
  }
  std::string RestText() {
    std::string value(reinterpret_cast<const char*>(bytes_.data() + position_),
                      bytes_.size() - position_);
    position_ = bytes_.size();
    return value;
  }
  bool ok() const { return ok_; }
  bool AtEnd() const { return position_ == bytes_.size(); }

 private:
  bool Need(size_t count) {
    if (ok_ && bytes_.size() - position_ >= count) return true;
    ok_ = false;
    return false;
  }
  uint64_t Unsigned(size_t size) {
    if (!Need(size)) return 0;
    uint64_t value = 0;
    for (size_t index = 0; index < size; ++index) value = (value << 8) | bytes_[position_++];
    return value;
  }

  std::span<const uint8_t> bytes_;
  size_t position_ = 0;
  bool ok_ = true;
};

uint32_t ReadBigEndian32(const uint8_t* bytes) {
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         bytes[3];
}

// Payload encoders, one per frame type.
void Encode(const Hello& hello, ByteWriter& writer) {
  writer.U32(hello.protocol_version);
  writer.String(hello.client_name);
  writer.String(hello.secret);
}
void Encode(const Welcome& welcome, ByteWriter& writer) {
  writer.StringList(welcome.subnets);
  writer.StringList(welcome.search_domains);
  writer.String(welcome.cluster_domain);
}
void Encode(const Refused& refused, ByteWriter& writer) { writer.String(refused.reason); }
void Encode(const OpenTcp& open, ByteWriter& writer) {
  writer.String(open.host);
  writer.U16(open.port);
}
void Encode(const Opened&, ByteWriter&) {}
void Encode(const OpenFailed& failed, ByteWriter& writer) {
  writer.U32(static_cast<uint32_t>(failed.error_code));
  writer.String(failed.reason);
}
void Encode(const Data& data, ByteWriter& writer) { writer.Rest(data.bytes); }
void Encode(const Window& window, ByteWriter& writer) { writer.U32(window.credit); }
void Encode(const Close& close, ByteWriter& writer) { writer.U8(static_cast<uint8_t>(close.mode)); }
void Encode(const UdpDatagram& datagram, ByteWriter& writer) {
  writer.String(datagram.address);
  writer.U16(datagram.port);
  writer.Rest(datagram.bytes);
}
void Encode(const UdpReply& reply, ByteWriter& writer) {
  writer.String(reply.address);
  writer.U16(reply.port);
  writer.Rest(reply.bytes);
}
void Encode(const DnsQuery& query, ByteWriter& writer) { writer.Rest(query.message); }
void Encode(const DnsAnswer& answer, ByteWriter& writer) {
  writer.U32(static_cast<uint32_t>(answer.error_code));
  writer.Rest(answer.message);
}
void Encode(const Ping& ping, ByteWriter& writer) { writer.U64(ping.nonce); }
void Encode(const Pong& pong, ByteWriter& writer) { writer.U64(pong.nonce); }
void Encode(const SubnetsChanged& changed, ByteWriter& writer) {
  writer.StringList(changed.subnets);
}
void Encode(const Request& request, ByteWriter& writer) {
  writer.Rest(std::string_view(request.body));
}
void Encode(const Reply& reply, ByteWriter& writer) {
  writer.U32(static_cast<uint32_t>(reply.error_code));
  writer.Rest(std::string_view(reply.body));
}

// Payload decoders, one per frame type. Range checks beyond "the bytes are there" set `bad`.
struct PayloadDecoder {
  ByteReader& reader;
  bool& bad_value;

  FrameBody operator()(Hello) const {
    Hello hello;
    hello.protocol_version = reader.U32();
    hello.client_name = reader.String();
    hello.secret = reader.String();
    return hello;
  }
  FrameBody operator()(Welcome) const {
    Welcome welcome;
    welcome.subnets = reader.StringList();
    welcome.search_domains = reader.StringList();
    welcome.cluster_domain = reader.String();
    return welcome;
  }
  FrameBody operator()(Refused) const { return Refused{reader.String()}; }
  FrameBody operator()(OpenTcp) const {
    OpenTcp open;
    open.host = reader.String();
    open.port = reader.U16();
    return open;
  }
  FrameBody operator()(Opened) const { return Opened{}; }
  FrameBody operator()(OpenFailed) const {
    OpenFailed failed;
    failed.error_code = static_cast<int32_t>(reader.U32());
    failed.reason = reader.String();
    return failed;
  }
  FrameBody operator()(Data) const { return Data{reader.Rest()}; }
  FrameBody operator()(Window) const { return Window{reader.U32()}; }
  FrameBody operator()(Close) const {
    const uint8_t mode = reader.U8();
    if (mode != static_cast<uint8_t>(CloseMode::kHalfClose) &&
        mode != static_cast<uint8_t>(CloseMode::kReset)) {
      bad_value = true;
    }
    return Close{static_cast<CloseMode>(mode)};
  }
  FrameBody operator()(UdpDatagram) const {
    UdpDatagram datagram;
    datagram.address = reader.String();
    datagram.port = reader.U16();
    if (reader.ok()) datagram.bytes = reader.Rest();
    return datagram;
  }
  FrameBody operator()(UdpReply) const {
    UdpReply reply;
    reply.address = reader.String();
    reply.port = reader.U16();
    if (reader.ok()) reply.bytes = reader.Rest();
    return reply;
  }
  FrameBody operator()(DnsQuery) const { return DnsQuery{reader.Rest()}; }
  FrameBody operator()(DnsAnswer) const {
    DnsAnswer answer;
    answer.error_code = static_cast<int32_t>(reader.U32());
    if (reader.ok()) answer.message = reader.Rest();
    return answer;
  }
  FrameBody operator()(Ping) const { return Ping{reader.U64()}; }
  FrameBody operator()(Pong) const { return Pong{reader.U64()}; }
  FrameBody operator()(SubnetsChanged) const { return SubnetsChanged{reader.StringList()}; }
  FrameBody operator()(Request) const { return Request{reader.RestText()}; }
  FrameBody operator()(Reply) const {
    Reply reply;
    reply.error_code = static_cast<int32_t>(reader.U32());
    if (reader.ok()) reply.body = reader.RestText();
    return reply;
  }
};

// A default-constructed body of the given (valid) type, used to pick the decoder.
FrameBody EmptyBodyOfType(uint8_t type) {
  static constexpr auto kMakers = []<size_t... Index>(std::index_sequence<Index...>) {
    return std::array<FrameBody (*)(), sizeof...(Index)>{
        +[]() -> FrameBody { return std::variant_alternative_t<Index, FrameBody>{}; }...};
  }
  (std::make_index_sequence<std::variant_size_v<FrameBody>>{});
  return kMakers[type - 1]();
}

// Writes the length field of the frame that starts at out[start].
void PatchLength(std::vector<uint8_t>& out, size_t start) {
  const auto length = static_cast<uint32_t>(out.size() - start - 4);
  for (int index = 0; index < 4; ++index) {
    out[start + static_cast<size_t>(index)] = static_cast<uint8_t>(length >> (24 - 8 * index));
  }
}

DecodeResult Malformed(MalformedReason reason) {
  DecodeResult result;
  result.status = DecodeStatus::kMalformed;
  result.reason = reason;
  return result;
}

}  // namespace

bool AppendFrame(const Frame& frame, std::vector<uint8_t>& out) {
  const size_t start = out.size();
  ByteWriter writer(out);
  writer.U32(0);
  writer.U8(static_cast<uint8_t>(frame.type()));
  writer.U32(frame.id);
  std::visit([&writer](const auto& body) { Encode(body, writer); }, frame.body);
  if (!writer.ok() || out.size() - start > kMaxFrameSize) {
    out.resize(start);
    return false;
  }
  PatchLength(out, start);
  return true;
}

std::vector<uint8_t> EncodeFrame(const Frame& frame) {
  std::vector<uint8_t> out;
  AppendFrame(frame, out);
  return out;
}

bool AppendDataFrame(uint32_t id, std::span<const uint8_t> bytes, std::vector<uint8_t>& out) {
  if (bytes.size() > kMaxFrameSize - kFrameHeaderSize) return false;
  const auto header = DataFrameHeader(id, bytes.size());
  out.reserve(out.size() + header.size() + bytes.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), bytes.begin(), bytes.end());
  return true;
}

HeaderDecodeResult DecodeFrameHeader(std::span<const uint8_t> buffer) {
  HeaderDecodeResult result;
  if (buffer.size() < 4) return result;
  const uint32_t length = ReadBigEndian32(buffer.data());
  result.reason = length < kFrameHeaderSize - 4 ? MalformedReason::kTooShort
                  : length > kMaxFrameSize - 4  ? MalformedReason::kTooLong
                  : buffer.size() >= 5 && (buffer[4] == 0 || buffer[4] > kLastFrameType)
                      ? MalformedReason::kUnknownType  // checked as soon as it arrives
                      : MalformedReason::kNone;
  if (result.reason != MalformedReason::kNone) {
    result.status = DecodeStatus::kMalformed;
    return result;
  }
  if (buffer.size() < kFrameHeaderSize) return result;
  result.status = DecodeStatus::kFrame;
  result.header.type = static_cast<FrameType>(buffer[4]);
  result.header.id = ReadBigEndian32(buffer.data() + 5);
  result.header.payload_size = length - (kFrameHeaderSize - 4);
  return result;
}

std::array<uint8_t, kFrameHeaderSize> DataFrameHeader(uint32_t id, size_t payload_size) {
  const auto length = static_cast<uint32_t>(payload_size + kFrameHeaderSize - 4);
  return {static_cast<uint8_t>(length >> 24),
          static_cast<uint8_t>(length >> 16),
          static_cast<uint8_t>(length >> 8),
          static_cast<uint8_t>(length),
          static_cast<uint8_t>(FrameType::kData),
          static_cast<uint8_t>(id >> 24),
          static_cast<uint8_t>(id >> 16),
          static_cast<uint8_t>(id >> 8),
          static_cast<uint8_t>(id)};
}

DecodeResult DecodeFrame(std::span<const uint8_t> buffer) {
  const HeaderDecodeResult header = DecodeFrameHeader(buffer);
  if (header.status == DecodeStatus::kMalformed) return Malformed(header.reason);
  if (buffer.size() < 4) return {};
  const uint32_t length = ReadBigEndian32(buffer.data());
  if (buffer.size() - 4 < length) return {};

  const uint8_t type = buffer[4];
  ByteReader reader(buffer.subspan(kFrameHeaderSize, length - (kFrameHeaderSize - 4)));
  bool bad_value = false;
  DecodeResult result;
  result.frame.id = ReadBigEndian32(buffer.data() + 5);
  result.frame.body = std::visit(PayloadDecoder{reader, bad_value}, EmptyBodyOfType(type));
  if (!reader.ok()) return Malformed(MalformedReason::kTruncatedField);
  if (!reader.AtEnd()) return Malformed(MalformedReason::kTrailingBytes);
  if (bad_value) return Malformed(MalformedReason::kBadValue);
  result.status = DecodeStatus::kFrame;
  result.consumed = 4 + length;
  return result;
}

std::string_view FrameTypeName(FrameType type) {
  static constexpr std::string_view kNames[] = {
      "Hello",     "Welcome", "Refused", "OpenTcp",        "Opened",   "OpenFailed",
      "Data",      "Window",  "Close",   "UdpDatagram",    "UdpReply", "DnsQuery",
      "DnsAnswer", "Ping",    "Pong",    "SubnetsChanged", "Request",  "Reply"};
  const auto index = static_cast<size_t>(type);
  return index >= 1 && index <= kLastFrameType ? kNames[index - 1] : "unknown";
}

std::string_view MalformedReasonName(MalformedReason reason) {
  switch (reason) {
    case MalformedReason::kNone:
      return "none";
    case MalformedReason::kTooShort:
      return "length too short";
    case MalformedReason::kTooLong:
      return "length over 1 MiB";
    case MalformedReason::kUnknownType:
      return "unknown frame type";
    case MalformedReason::kTruncatedField:
      return "field past the frame's end";
    case MalformedReason::kTrailingBytes:
      return "bytes after the last field";
    case MalformedReason::kBadValue:
      return "field value out of range";
  }
  return "unknown";
}

}  // namespace tp::tunnel
