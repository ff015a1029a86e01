#include "tunnel/tunnel_frame.h"

#include <gtest/gtest.h>

#include <random>

namespace tp::tunnel {
namespace {

std::vector<uint8_t> Bytes(std::string_view text) { return {text.begin(), text.end()}; }

// One frame of every type, with non-trivial field values.
std::vector<Frame> OneFrameOfEachType() {
  return {
      {0, Hello{kProtocolVersion, "daemon-laptop", "s3cr3t"}},
      {0,
       Welcome{{"10.96.0.0/12", "172.30.0.0/16"}, {"default.svc.cluster.local"}, "cluster.local"}},
      {0, Refused{"wrong secret"}},
      {7, OpenTcp{"echo.default", 8080}},
      {7, Opened{}},
      {9, OpenFailed{111, "connection refused"}},
      {7, Data{Bytes("hello\0world")}},
      {7, Window{256 * 1024}},
      {7, Close{CloseMode::kHalfClose}},
      {7, Close{CloseMode::kReset}},
      {3, UdpDatagram{"10.0.0.53", 53, Bytes("query")}},
      {3, UdpReply{"::1", 5353, Bytes("answer")}},
      {42, DnsQuery{Bytes("\x12\x34raw")}},
      {42, DnsAnswer{0, Bytes("\x12\x34reply")}},
      {42, DnsAnswer{110, {}}},
      {0, Ping{0x0102030405060708ull}},
      {0, Pong{0xfffffffffffffffeull}},
      {0, SubnetsChanged{{"10.0.0.0/8"}}},
      {0, SubnetsChanged{}},
      {5, Request{R"({"op":"list"})"}},
      {5, Request{}},
      {5, Reply{0, R"({"workloads":[]})"}},
      {6, Reply{22, R"({"error":"unknown op"})"}},
      {6, Reply{0, ""}},
  };
}

TEST(TunnelFrame, EveryTypeRoundTrips) {
  for (const Frame& frame : OneFrameOfEachType()) {
    SCOPED_TRACE(std::string(FrameTypeName(frame.type())));
    const std::vector<uint8_t> bytes = EncodeFrame(frame);
    ASSERT_GE(bytes.size(), kFrameHeaderSize);
    const DecodeResult result = DecodeFrame(bytes);
    ASSERT_EQ(result.status, DecodeStatus::kFrame) << MalformedReasonName(result.reason);
    EXPECT_EQ(result.consumed, bytes.size());
    EXPECT_EQ(result.frame, frame);
  }
}

TEST(TunnelFrame, HeaderLayoutIsLengthTypeId) {
  const std::vector<uint8_t> bytes = EncodeFrame({0x01020304, Window{5}});
  const std::vector<uint8_t> expected = {0, 0, 0, 9, 8, 1, 2, 3, 4, 0, 0, 0, 5};
  EXPECT_EQ(bytes, expected);
}

TEST(TunnelFrame, DataFrameHelperMatchesGenericEncoder) {
  std::vector<uint8_t> direct;
  ASSERT_TRUE(AppendDataFrame(11, Bytes("payload"), direct));
  EXPECT_EQ(direct, EncodeFrame({11, Data{Bytes("payload")}}));
}

TEST(TunnelFrame, FramesDecodeOneAfterAnother) {
  std::vector<uint8_t> stream;
  for (const Frame& frame : OneFrameOfEachType()) ASSERT_TRUE(AppendFrame(frame, stream));
  std::span<const uint8_t> rest(stream);
  for (const Frame& frame : OneFrameOfEachType()) {
    const DecodeResult result = DecodeFrame(rest);
    ASSERT_EQ(result.status, DecodeStatus::kFrame);
    EXPECT_EQ(result.frame, frame);
    rest = rest.subspan(result.consumed);
  }
  EXPECT_TRUE(rest.empty());
}

TEST(TunnelFrame, EveryPrefixOfAFrameNeedsMore) {
  const std::vector<uint8_t> bytes = EncodeFrame({1, OpenTcp{"echo", 80}});
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_EQ(DecodeFrame(std::span(bytes).first(size)).status, DecodeStatus::kNeedMore) << size;
  }
}

TEST(TunnelFrame, LengthBelowHeaderIsTooShort) {
  const std::vector<uint8_t> bytes = {0, 0, 0, 4, 8, 0, 0, 0};
  const DecodeResult result = DecodeFrame(bytes);
  EXPECT_EQ(result.status, DecodeStatus::kMalformed);
  EXPECT_EQ(result.reason, MalformedReason::kTooShort);
}

TEST(TunnelFrame, LengthOverOneMebibyteIsRejectedFromTheHeaderAlone) {
  const std::vector<uint8_t> bytes = {0x00, 0x10, 0x00, 0x00};  // 1 MiB after the length field
  const DecodeResult result = DecodeFrame(bytes);
  EXPECT_EQ(result.status, DecodeStatus::kMalformed);
  EXPECT_EQ(result.reason, MalformedReason::kTooLong);
  const std::vector<uint8_t> huge = {0xff, 0xff, 0xff, 0xff, 7};
  EXPECT_EQ(DecodeFrame(huge).reason, MalformedReason::kTooLong);
}

TEST(TunnelFrame, LargestFrameIsAccepted) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(AppendDataFrame(1, std::vector<uint8_t>(kMaxFrameSize - kFrameHeaderSize, 7), bytes));
  EXPECT_EQ(bytes.size(), kMaxFrameSize);
  EXPECT_EQ(DecodeFrame(bytes).status, DecodeStatus::kFrame);
  std::vector<uint8_t> too_big;
  EXPECT_FALSE(AppendDataFrame(1, std::vector<uint8_t>(kMaxFrameSize, 7), too_big));
  EXPECT_TRUE(too_big.empty());
}

TEST(TunnelFrame, UnknownTypesAreRejected) {
  for (const uint8_t type : {0, 19, 200, 255}) {
    const std::vector<uint8_t> bytes = {0, 0, 0, 5, type, 0, 0, 0, 1};
    const DecodeResult result = DecodeFrame(bytes);
    EXPECT_EQ(result.status, DecodeStatus::kMalformed) << int{type};
    EXPECT_EQ(result.reason, MalformedReason::kUnknownType) << int{type};
  }
}

TEST(TunnelFrame, StringLongerThanTheFrameIsTruncatedField) {
  // Refused with a string length of 200 but 3 bytes of text.
  const std::vector<uint8_t> bytes = {0, 0, 0, 10, 3, 0, 0, 0, 0, 0, 200, 'a', 'b', 'c'};
  const DecodeResult result = DecodeFrame(bytes);
  EXPECT_EQ(result.status, DecodeStatus::kMalformed);
  EXPECT_EQ(result.reason, MalformedReason::kTruncatedField);
}

TEST(TunnelFrame, ListCountLargerThanTheFrameFailsWithoutAllocating) {
  // SubnetsChanged claiming 65535 entries in a 2-byte payload.
  const std::vector<uint8_t> bytes = {0, 0, 0, 7, 16, 0, 0, 0, 0, 0xff, 0xff};
  EXPECT_EQ(DecodeFrame(bytes).reason, MalformedReason::kTruncatedField);
}

TEST(TunnelFrame, MissingFixedFieldIsTruncatedField) {
  std::vector<uint8_t> bytes = EncodeFrame({0, Ping{1}});
  bytes.pop_back();
  bytes[3] -= 1;  // the length says one byte less, so the u64 nonce is short
  EXPECT_EQ(DecodeFrame(bytes).reason, MalformedReason::kTruncatedField);
}

TEST(TunnelFrame, ExtraBytesAfterTheLastFieldAreRejected) {
  std::vector<uint8_t> bytes = EncodeFrame({1, Window{5}});
  bytes.push_back(0);
  bytes[3] += 1;
  EXPECT_EQ(DecodeFrame(bytes).reason, MalformedReason::kTrailingBytes);
}

TEST(TunnelFrame, UnknownCloseModeIsBadValue) {
  std::vector<uint8_t> bytes = EncodeFrame({1, Close{CloseMode::kReset}});
  bytes.back() = 9;
  EXPECT_EQ(DecodeFrame(bytes).reason, MalformedReason::kBadValue);
}

TEST(TunnelFrame, OversizedStringIsNotEncoded) {
  std::vector<uint8_t> out = {1, 2, 3};
  EXPECT_FALSE(AppendFrame({0, Refused{std::string(70000, 'x')}}, out));
  EXPECT_EQ(out.size(), 3u);
  EXPECT_TRUE(EncodeFrame({0, Data{std::vector<uint8_t>(kMaxFrameSize, 0)}}).empty());
}

TEST(TunnelFrame, RequestAndReplyBodiesRunToTheFrameEnd) {
  const std::vector<uint8_t> request = EncodeFrame({3, Request{"{}"}});
  const std::vector<uint8_t> expected_request = {0, 0, 0, 7, 17, 0, 0, 0, 3, '{', '}'};
  EXPECT_EQ(request, expected_request);
  const std::vector<uint8_t> reply = EncodeFrame({3, Reply{22, "{}"}});
  const std::vector<uint8_t> expected_reply = {0, 0, 0, 11, 18, 0, 0, 0, 3, 0, 0, 0, 22, '{', '}'};
  EXPECT_EQ(reply, expected_reply);
}

TEST(TunnelFrame, RequestBodyMayFillTheFrame) {
  const std::string body(kMaxFrameSize - kFrameHeaderSize, 'x');
  const std::vector<uint8_t> bytes = EncodeFrame({1, Request{body}});
  ASSERT_EQ(bytes.size(), kMaxFrameSize);
  const DecodeResult result = DecodeFrame(bytes);
  ASSERT_EQ(result.status, DecodeStatus::kFrame);
  EXPECT_EQ(std::get<Request>(result.frame.body).body, body);
  EXPECT_TRUE(EncodeFrame({1, Request{body + "x"}}).empty());
  EXPECT_TRUE(EncodeFrame({1, Reply{0, body}}).empty());
}

TEST(TunnelFrame, ReplyWithoutItsErrorCodeIsTruncatedField) {
  const std::vector<uint8_t> bytes = {0, 0, 0, 7, 18, 0, 0, 0, 1, 0, 0};
  EXPECT_EQ(DecodeFrame(bytes).reason, MalformedReason::kTruncatedField);
  const std::vector<uint8_t> empty_body = {0, 0, 0, 9, 18, 0, 0, 0, 1, 0, 0, 0, 38};
  const DecodeResult result = DecodeFrame(empty_body);
  ASSERT_EQ(result.status, DecodeStatus::kFrame);
  EXPECT_EQ(result.frame, (Frame{1, Reply{38, ""}}));
}

TEST(TunnelFrame, EveryPrefixOfARequestOrReplyNeedsMore) {
  for (const Frame& frame : {Frame{1, Request{"{\"op\":1}"}}, Frame{1, Reply{5, "{}"}}}) {
    const std::vector<uint8_t> bytes = EncodeFrame(frame);
    for (size_t size = 0; size < bytes.size(); ++size) {
      EXPECT_EQ(DecodeFrame(std::span(bytes).first(size)).status, DecodeStatus::kNeedMore);
    }
  }
}

// Random bytes, and valid frames with random corruption: the decoder must never crash, never
// claim more bytes than it was given, and be consistent about what a frame is.
TEST(TunnelFrame, RandomInputNeverCrashes) {
  std::mt19937 random(20240611);
  std::uniform_int_distribution<int> byte(0, 255);
  const std::vector<Frame> samples = OneFrameOfEachType();
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> input;
    if (round % 2 == 0) {
      input.resize(static_cast<size_t>(random() % 64));
      for (auto& value : input) value = static_cast<uint8_t>(byte(random));
      if (input.size() >= 4 && round % 4 == 0) input[0] = input[1] = 0;  // plausible lengths
    } else {
      input = EncodeFrame(samples[random() % samples.size()]);
      const int flips = 1 + static_cast<int>(random() % 3);
      for (int flip = 0; flip < flips; ++flip) {
        input[random() % input.size()] = static_cast<uint8_t>(byte(random));
      }
      input.resize(random() % (input.size() + 1));
    }
    const DecodeResult result = DecodeFrame(input);
    if (result.status == DecodeStatus::kFrame) {
      ASSERT_LE(result.consumed, input.size());
      // What decodes re-encodes to the same bytes.
      EXPECT_EQ(EncodeFrame(result.frame),
                std::vector<uint8_t>(input.begin(),
                                     input.begin() + static_cast<std::ptrdiff_t>(result.consumed)));
    }
  }
}

TEST(TunnelFrame, DataFrameHeaderThenPayloadIsTheDataFrame) {
  const std::vector<uint8_t> payload = Bytes("some payload bytes");
  const auto header = DataFrameHeader(0x01020304, payload.size());
  std::vector<uint8_t> joined(header.begin(), header.end());
  joined.insert(joined.end(), payload.begin(), payload.end());
  EXPECT_EQ(joined, EncodeFrame({0x01020304, Data{payload}}));
  const auto empty = DataFrameHeader(5, 0);
  EXPECT_EQ(std::vector<uint8_t>(empty.begin(), empty.end()), EncodeFrame({5, Data{}}));
}

TEST(TunnelFrame, HeaderDecodesBeforeThePayloadArrives) {
  std::vector<uint8_t> bytes;
  ASSERT_TRUE(AppendDataFrame(77, std::vector<uint8_t>(300000, 1), bytes));
  for (size_t size = 0; size < kFrameHeaderSize; ++size) {
    EXPECT_EQ(DecodeFrameHeader(std::span(bytes).first(size)).status, DecodeStatus::kNeedMore);
  }
  for (const size_t size : {kFrameHeaderSize, kFrameHeaderSize + 1, bytes.size()}) {
    const HeaderDecodeResult result = DecodeFrameHeader(std::span(bytes).first(size));
    ASSERT_EQ(result.status, DecodeStatus::kFrame);
    EXPECT_EQ(result.header.type, FrameType::kData);
    EXPECT_EQ(result.header.id, 77u);
    EXPECT_EQ(result.header.payload_size, 300000u);
  }
  const HeaderDecodeResult window = DecodeFrameHeader(EncodeFrame({3, Window{9}}));
  ASSERT_EQ(window.status, DecodeStatus::kFrame);
  EXPECT_EQ(window.header.type, FrameType::kWindow);
  EXPECT_EQ(window.header.payload_size, 4u);
}

// The header decoder refuses exactly what the frame decoder refuses from the same first bytes,
// as early, so a reader that streams payloads kills the link on the same input.
TEST(TunnelFrame, HeaderDecoderAgreesWithFrameDecoderOnBadHeaders) {
  const std::vector<std::vector<uint8_t>> inputs = {
      {0, 0, 0, 4, 8, 0, 0, 0},      // too short
      {0x00, 0x10, 0x00, 0x00},      // too long
      {0xff, 0xff, 0xff, 0xff, 7},   // too long
      {0, 0, 0, 5, 0},               // type 0
      {0, 0, 0, 5, 19, 0, 0, 0, 1},  // unknown type
      {0, 0, 0, 20, 200},            // unknown type, rest not there yet
  };
  for (const auto& input : inputs) {
    const DecodeResult frame = DecodeFrame(input);
    const HeaderDecodeResult header = DecodeFrameHeader(input);
    EXPECT_EQ(header.status, DecodeStatus::kMalformed);
    EXPECT_EQ(header.status, frame.status);
    EXPECT_EQ(header.reason, frame.reason);
  }
  std::mt19937 random(7);
  for (int round = 0; round < 20000; ++round) {
    std::vector<uint8_t> input(static_cast<size_t>(random() % 12));
    for (auto& value : input) value = static_cast<uint8_t>(random());
    if (input.size() >= 3 && round % 2 == 0) input[0] = input[1] = input[2] = 0;
    const DecodeResult frame = DecodeFrame(input);
    const HeaderDecodeResult header = DecodeFrameHeader(input);
    if (header.status == DecodeStatus::kMalformed || frame.reason == MalformedReason::kTooShort ||
        frame.reason == MalformedReason::kTooLong ||
        frame.reason == MalformedReason::kUnknownType) {
      EXPECT_EQ(header.reason, frame.reason);
    }
  }
}

}  // namespace
}  // namespace tp::tunnel
