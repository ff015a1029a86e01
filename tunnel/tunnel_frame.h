// The tunnel's wire format between the daemon and the traffic-manager. Pure encode/decode over
// byte spans: no I/O, no global state, every read bounds-checked. A malformed frame decodes to
// an error value, never a crash and never an allocation larger than the frame itself.
//
// A frame is: u32 length (of everything after it), u8 type, u32 id, then the type's payload.
// Integers are big-endian. Strings are u16 length + bytes; lists are u16 count + strings. The
// id is the stream id (TCP), the flow id (UDP), the query id (DNS), the request id (Request,
// Reply), or 0 for link messages.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace tp::tunnel {

// Version 2: a stream's opener may send Data (and a half-close) right after its OpenTcp, without
// waiting for Opened, within kInitialWindow; the accepting side keeps those bytes until its
// handler accepts the stream, and drops them when it refuses (OpenFailed). Version 1 peers would
// take such Data for a protocol violation: a Hello of another version is Refused, saying both.
inline constexpr uint32_t kProtocolVersion = 2;
// Every stream starts with this much credit in each direction, known to both sides without a
// Window frame. A receiver grows a stream's window past it (up to
// ConnectionOptions::max_stream_window) while the stream's reader keeps up with a window's worth
// in less than two round trips: see TunnelLink::AdjustWindowLocked.
inline constexpr uint32_t kInitialWindow = 1024 * 1024;
// u32 length + u8 type + u32 id.
inline constexpr size_t kFrameHeaderSize = 9;
// Largest whole frame (length field included) either side sends or accepts.
inline constexpr size_t kMaxFrameSize = 1024 * 1024;
// Largest byte payload of a Data frame we send; smaller than the cap so frames interleave.
inline constexpr size_t kMaxDataChunk = 512 * 1024;

enum class FrameType : uint8_t {
  kHello = 1,
  kWelcome = 2,
  kRefused = 3,
  kOpenTcp = 4,
  kOpened = 5,
  kOpenFailed = 6,
  kData = 7,
  kWindow = 8,
  kClose = 9,
  kUdpDatagram = 10,
  kUdpReply = 11,
  kDnsQuery = 12,
  kDnsAnswer = 13,
  kPing = 14,
  kPong = 15,
  kSubnetsChanged = 16,
  kRequest = 17,
  kReply = 18,
};

enum class CloseMode : uint8_t {
  kHalfClose = 1,  // the sender sends no more data on this stream (TCP FIN)
  kReset = 2,      // the stream is gone in both directions (TCP RST)
};

// Client -> manager, first frame on the link.
struct Hello {
  uint32_t protocol_version = kProtocolVersion;
  std::string client_name;
  std::string secret;
  bool operator==(const Hello&) const = default;
};
// Manager -> client: the answer to an accepted Hello.
struct Welcome {
  std::vector<std::string> subnets;         // CIDR: "10.96.0.0/12"
  std::vector<std::string> search_domains;  // "default.svc.cluster.local"
  std::string cluster_domain;               // "cluster.local"
  bool operator==(const Welcome&) const = default;
};
// Manager -> client: the answer to a rejected Hello; the manager closes the link after it.
struct Refused {
  std::string reason;
  bool operator==(const Refused&) const = default;
};
// Opens TCP stream `id` to host:port (host: a name or a numeric IPv4/IPv6 address).
struct OpenTcp {
  std::string host;
  uint16_t port = 0;
  bool operator==(const OpenTcp&) const = default;
};
struct Opened {
  bool operator==(const Opened&) const = default;
};
struct OpenFailed {
  int32_t error_code = 0;  // a Linux errno value: ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH...
  std::string reason;
  bool operator==(const OpenFailed&) const = default;
};
// Stream bytes; the sender must hold that much credit (see Window).
struct Data {
  std::vector<uint8_t> bytes;
  bool operator==(const Data&) const = default;
};
// Grants the peer `credit` more bytes of Data on the stream.
struct Window {
  uint32_t credit = 0;
  bool operator==(const Window&) const = default;
};
struct Close {
  CloseMode mode = CloseMode::kHalfClose;
  bool operator==(const Close&) const = default;
};
// Client -> manager: one datagram of UDP flow `id` to address:port (numeric address).
struct UdpDatagram {
  std::string address;
  uint16_t port = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const UdpDatagram&) const = default;
};
// Manager -> client: one datagram received on flow `id`, from address:port.
struct UdpReply {
  std::string address;
  uint16_t port = 0;
  std::vector<uint8_t> bytes;
  bool operator==(const UdpReply&) const = default;
};
// Client -> manager: a raw DNS message to resolve in the cluster.
struct DnsQuery {
  std::vector<uint8_t> message;
  bool operator==(const DnsQuery&) const = default;
};
// Manager -> client: the raw DNS reply, or an error code and no message.
struct DnsAnswer {
  int32_t error_code = 0;
  std::vector<uint8_t> message;
  bool operator==(const DnsAnswer&) const = default;
};
struct Ping {
  uint64_t nonce = 0;
  bool operator==(const Ping&) const = default;
};
struct Pong {
  uint64_t nonce = 0;
  bool operator==(const Pong&) const = default;
};
// Manager -> client: the cluster's subnets changed; the new full list.
struct SubnetsChanged {
  std::vector<std::string> subnets;
  bool operator==(const SubnetsChanged&) const = default;
};

// Either way: a JSON request (the body runs to the frame's end); `id` is the request id, unique
// among the sender's requests still waiting for their Reply.
struct Request {
  std::string body;
  bool operator==(const Request&) const = default;
};
// The answer to the peer's Request with the same id: an error code (0, or a Linux errno value)
// and a JSON body (running to the frame's end); with an error, {"error": "a sentence"}.
struct Reply {
  int32_t error_code = 0;
  std::string body;
  bool operator==(const Reply&) const = default;
};

// The alternatives are in FrameType order: index + 1 == the type's number.
using FrameBody = std::variant<Hello, Welcome, Refused, OpenTcp, Opened, OpenFailed, Data, Window,
                               Close, UdpDatagram, UdpReply, DnsQuery, DnsAnswer, Ping, Pong,
                               SubnetsChanged, Request, Reply>;

struct Frame {
  uint32_t id = 0;
  FrameBody body;

  FrameType type() const { return static_cast<FrameType>(body.index() + 1); }
  bool operator==(const Frame&) const = default;
};

// Appends the encoding of `frame` to `out`. Returns false (and appends nothing) when the frame
// breaks a limit: a string over 65535 bytes, a list over 65535 entries, a frame over the cap.
bool AppendFrame(const Frame& frame, std::vector<uint8_t>& out);
// The encoding of `frame`, or no bytes when AppendFrame would return false.
std::vector<uint8_t> EncodeFrame(const Frame& frame);
// Appends a Data frame straight from `bytes` (no intermediate Frame). Returns false when
// `bytes` does not fit one frame.
bool AppendDataFrame(uint32_t id, std::span<const uint8_t> bytes, std::vector<uint8_t>& out);

enum class DecodeStatus {
  kFrame,      // a frame was decoded; `consumed` bytes were used
  kNeedMore,   // the buffer holds the start of a valid frame only
  kMalformed,  // the bytes can never be a valid frame; the link must be dropped
};

enum class MalformedReason {
  kNone,
  kTooShort,        // length field smaller than type + id
  kTooLong,         // length field over kMaxFrameSize
  kUnknownType,     // type byte not in FrameType
  kTruncatedField,  // a field (string, integer) runs past the frame's end
  kTrailingBytes,   // bytes left after the type's last field
  kBadValue,        // a field holds a value outside its range (e.g. an unknown close mode)
};

struct DecodeResult {
  DecodeStatus status = DecodeStatus::kNeedMore;
  Frame frame;          // valid when status == kFrame
  size_t consumed = 0;  // bytes of the buffer used by the frame
  MalformedReason reason = MalformedReason::kNone;
};

// Decodes the frame at the start of `buffer`. Only the length field is trusted to ask for more
// bytes, and only up to kMaxFrameSize.
DecodeResult DecodeFrame(std::span<const uint8_t> buffer);

// The fixed part of a frame, checked as far as it goes without the payload: the length is in
// range and the type is known. Lets a reader stream a large Data payload to where it belongs
// instead of waiting for the whole frame.
struct FrameHeader {
  FrameType type = FrameType::kData;
  uint32_t id = 0;
  size_t payload_size = 0;  // bytes after the header
};
struct HeaderDecodeResult {
  DecodeStatus status = DecodeStatus::kNeedMore;  // kFrame: `header` is valid
  FrameHeader header;
  MalformedReason reason = MalformedReason::kNone;
};
// Decodes the header at the start of `buffer`; kMalformed exactly when DecodeFrame would say so
// from the same bytes for the length or type, as early as it would.
HeaderDecodeResult DecodeFrameHeader(std::span<const uint8_t> buffer);
// The header of a Data frame of `payload_size` bytes (at most kMaxFrameSize - kFrameHeaderSize):
// with the payload right after it, the same bytes AppendDataFrame writes.
std::array<uint8_t, kFrameHeaderSize> DataFrameHeader(uint32_t id, size_t payload_size);

std::string_view FrameTypeName(FrameType type);
std::string_view MalformedReasonName(MalformedReason reason);

}  // namespace tp::tunnel
